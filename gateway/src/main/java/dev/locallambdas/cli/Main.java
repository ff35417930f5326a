package dev.locallambdas.cli;

import dev.locallambdas.debug.Debugging;
import dev.locallambdas.export.SamTemplate;
import dev.locallambdas.frontdoor.TrustedProxies;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.manifest.ManifestCheck;
import dev.locallambdas.manifest.ManifestReader;
import dev.locallambdas.server.Gateway;
import dev.locallambdas.tls.LocalCertificate;
import dev.locallambdas.tls.ServerTls;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The command line: {@code local-lambdas [serve] [MANIFEST]} and {@code local-lambdas validate
 * MANIFEST}.
 */
@Command(
    name = "local-lambdas",
    mixinStandardHelpOptions = true,
    version = "local-lambdas " + Gateway.VERSION,
    description = {
      "A local function gateway: one HTTP front door routes each request by path to a function, a"
          + " local process declared in manifest.xml, started on demand and kept warm.",
      "",
      "With no command, 'serve' is assumed: 'local-lambdas [MANIFEST]' is 'local-lambdas serve"
          + " [MANIFEST]'. Docs: README.md and docs/ in the installation directory."
    },
    subcommands = {
      Main.Serve.class,
      Main.Validate.class,
      Main.Export.class,
      Exec.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Callable<Integer> {
  private static final Set<String> COMMANDS =
      Set.of("serve", "validate", "export", "exec", "help", "-h", "--help", "-V", "--version");

  @Override
  public Integer call() {
    return 0;
  }

  public static void main(String[] args) {
    if (System.getProperty("java.util.logging.manager") == null) {
      System.setProperty("java.util.logging.manager", ShutdownSafeLogManager.class.getName());
    }
    String[] effective = args;
    if (args.length == 0 || !COMMANDS.contains(args[0])) {
      effective = new String[args.length + 1];
      effective[0] = "serve";
      System.arraycopy(args, 0, effective, 1, args.length);
    }
    Serve quick = QuickServe.parse(effective);
    if (quick != null) {
      int code;
      try {
        code = quick.call();
      } catch (Exception e) {
        System.err.println("local-lambdas: " + e.getMessage()); // as picocli's handler below
        code = 1;
      }
      if (code != 0) {
        System.exit(code);
      }
      return;
    }
    CommandLine cli = new CommandLine(new Main());
    showServeOptions(cli);
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          cmd.getErr().println("local-lambdas: " + e.getMessage());
          return 1;
        });
    int code = cli.execute(effective);
    if (code != 0 || !"serve".equals(effective[0])) {
      System.exit(code);
    }
  }

  /**
   * 'serve' is the default command, so the top-level help lists its options too (after the
   * commands), taken from the serve command itself so the two never disagree.
   */
  private static void showServeOptions(CommandLine cli) {
    CommandLine serve = cli.getSubcommands().get("serve");
    String key = "serveOptions";
    List<String> keys = new ArrayList<>(cli.getHelpSectionKeys());
    keys.add(keys.indexOf(CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST) + 1, key);
    cli.setHelpSectionKeys(keys);
    cli.getHelpSectionMap()
        .put(
            key,
            help ->
                "%nOptions of serve (the default command: 'local-lambdas [MANIFEST] [OPTIONS]'):%n"
                        .formatted()
                    + serve.getHelp().optionList());
  }

  static class LogOptions {
    @Option(
        names = {"-q", "--quiet"},
        description = "Log warnings and errors only (as LOCAL_LAMBDAS_LOG=warn).")
    boolean quiet;

    // -v, not --debug: serve --debug ID runs a function under its debugger (ADR 0016).
    @Option(
        names = {"-v", "--verbose"},
        description =
            "Log everything, including each child's lifecycle in detail (as LOCAL_LAMBDAS_LOG=debug).")
    boolean debug;

    void apply(boolean accessLog) {
      Level level = fromEnvironment(System.getenv("LOCAL_LAMBDAS_LOG"));
      if (quiet) {
        level = Level.WARNING;
      }
      if (debug) {
        level = Level.FINE;
      }
      LogSetup.configure(level, accessLog);
    }

    /**
     * The level LOCAL_LAMBDAS_LOG asks for (INFO when unset or empty). An unknown value is refused
     * rather than ignored: a typo would otherwise silently give the wrong amount of logging.
     */
    static Level fromEnvironment(String value) {
      if (value == null || value.isBlank()) {
        return Level.INFO;
      }
      return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
        case "debug", "trace" -> Level.FINE;
        case "info" -> Level.INFO;
        case "warn", "warning", "error", "quiet" -> Level.WARNING;
        default ->
            throw new IllegalArgumentException(
                "LOCAL_LAMBDAS_LOG '"
                    + value
                    + "' is not a log level: use debug (or trace), info, or warn (or warning,"
                    + " error, quiet), or unset it");
      };
    }
  }

  @Command(
      name = "serve",
      mixinStandardHelpOptions = true,
      description = {
        "Serve the functions of a manifest. MANIFEST defaults to ./manifest.xml when it exists, else"
            + " to the bundled demo examples/manifest.xml. The address comes from --bind, else from"
            + " the BIND_ADDRESS environment variable, else 127.0.0.1:3000. SIGINT or SIGTERM drains"
            + " in-flight requests, stops every child and removes the socket files. A change of the"
            + " manifest file, SIGHUP or POST /.local-lambdas/reload reloads the manifest without"
            + " dropping a request (docs/reload.md)."
      })
  static final class Serve implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "MANIFEST", description = "Path of manifest.xml.")
    Path manifest;

    @Option(
        names = "--bind",
        paramLabel = "HOST:PORT",
        description = "Address to listen on, e.g. 127.0.0.1:3000 or [::1]:8080.")
    String bind;

    @Option(
        names = "--drain-grace",
        paramLabel = "DURATION",
        defaultValue = "10s",
        description =
            "On SIGINT/SIGTERM, how long in-flight requests may take to finish (default: ${DEFAULT-VALUE}).")
    String drainGrace;

    @Option(
        names = "--header-timeout",
        paramLabel = "DURATION",
        description =
            "How long a client may take to send a request head once it has started one: HTTP/1.1"
                + " gets 408, an HTTP/2 header block (or preface) GOAWAY (default: 10s).")
    String headerTimeout;

    @Option(
        names = "--loops",
        paramLabel = "N",
        description =
            "Event loop threads for the front door and every function connection (default: half"
                + " the cores, at least 1: the functions need the rest).")
    Integer loops;

    @Option(
        names = "--trust-proxy",
        paramLabel = "CIDR",
        split = ",",
        description =
            "Addresses or CIDR blocks of proxies in front of the gateway (e.g. 127.0.0.1,"
                + " 10.0.0.0/8; repeatable or comma-separated): their X-Forwarded-* and Forwarded"
                + " fields are kept and extended; from anyone else they are replaced.")
    List<String> trustProxy = new ArrayList<>();

    @Option(
        names = "--tls-cert",
        paramLabel = "PEM",
        description =
            "Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN, TLS 1.2/1.3) with this certificate chain"
                + " (PEM, the server's certificate first); needs --tls-key.")
    Path tlsCert;

    @Option(
        names = "--tls-key",
        paramLabel = "PEM",
        description = "The private key of --tls-cert (PEM, PKCS#8, unencrypted).")
    Path tlsKey;

    @Option(
        names = "--tls-self-signed",
        description =
            "Serve HTTPS with a local certificate for localhost, 127.0.0.1 and ::1, created once"
                + " under $XDG_DATA_HOME/local-lambdas/tls (or ~/.local/share/...) and reused;"
                + " prints how to trust it.")
    boolean tlsSelfSigned;

    @Option(
        names = "--access-log",
        description =
            "Log one line per request on stderr (logfmt: request id, function, instance, method,"
                + " path, status, bytes, duration, cold or warm), whatever the log level.")
    boolean accessLog;

    @Option(
        names = "--watch",
        description =
            "Watch mode: a change of a function's files (its working directory and program, or its"
                + " <watch> globs) replaces its instances, new ones ready before old ones drain"
                + " (docs/reload.md). The manifest itself is always watched.")
    boolean watch;

    @Option(
        names = "--no-reload",
        description =
            "Do not reload the manifest when its file changes (SIGHUP and POST"
                + " /.local-lambdas/reload still do).")
    boolean noReload;

    @Option(
        names = "--ready-file",
        paramLabel = "PATH",
        description =
            "Once the front door accepts connections, write its URL (http://HOST:PORT and a"
                + " newline) to PATH, atomically; removed again on stop. For test harnesses, with"
                + " --bind 127.0.0.1:0 (docs/testing.md).")
    Path readyFile;

    @Option(
        names = "--debug",
        paramLabel = "ID",
        description =
            "Start function ID ready for its language's debugger (JDWP for java, the inspector for"
                + " node, debugpy for python; the port is printed) with its timeouts suspended;"
                + " repeatable (docs/debugging.md). Debug logging is -v.")
    List<String> debugFunctions = new ArrayList<>();

    @CommandLine.ArgGroup(exclusive = true, multiplicity = "0..1")
    LogOptions log = new LogOptions();

    ServerTls tls() throws ServerTls.BadTlsFiles {
      return tlsFrom(this);
    }

    @Override
    public Integer call() throws Exception {
      log.apply(accessLog);
      if (loops != null && (loops < 1 || loops > 1024)) {
        System.err.println("local-lambdas: --loops " + loops + " is not allowed: use 1 to 1024");
        return 2;
      }
      Logger logger = Logger.getLogger("dev.locallambdas.server");
      Path file = resolveManifest(manifest);
      Duration grace = Durations.parse("--drain-grace", drainGrace);
      Duration heads = null;
      if (headerTimeout != null) {
        heads = Durations.parse("--header-timeout", headerTimeout);
        if (heads.isZero()) {
          System.err.println("local-lambdas: --header-timeout must be more than 0, e.g. 10s");
          return 2;
        }
      }
      InetSocketAddress address = BindAddress.resolve(bind, System.getenv("BIND_ADDRESS"));
      TrustedProxies trusted;
      try {
        trusted = TrustedProxies.parse(trustProxy);
      } catch (IllegalArgumentException e) {
        System.err.println("local-lambdas: " + e.getMessage());
        return 2;
      }
      ServerTls tls;
      try {
        tls = tls();
      } catch (ServerTls.BadTlsFiles e) {
        System.err.println("local-lambdas: " + e.getMessage());
        return 2;
      }
      Manifest m = check(file);
      if (m == null) {
        return 2;
      }
      Debugging.Result debugging;
      try {
        debugging = Debugging.apply(m, debugFunctions, Debugging::probeDebugpy);
      } catch (IllegalArgumentException e) {
        System.err.println("local-lambdas: " + e.getMessage());
        return 2;
      }
      m = debugging.manifest();
      ReadyFile ready = ReadyFile.of(readyFile);
      Gateway gateway;
      try {
        Gateway.Builder builder =
            Gateway.builder(m)
                .bind(address)
                .trustProxies(trusted)
                .watchFunctions(watch)
                .watchManifest(!noReload)
                .tls(tls);
        if (loops != null) {
          builder.loops(loops);
        }
        if (heads != null) {
          builder.headerTimeout(heads);
        }
        gateway = builder.start();
      } catch (IOException e) {
        System.err.println(
            "local-lambdas: " + BindFailure.explain(address, e).orElse(e.getMessage()));
        return 1;
      }
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    ready.remove();
                    gateway.shutdown(grace);
                    stopped.countDown();
                  },
                  "shutdown"));
      if (gateway.reloader() != null) {
        HangUp.reloadOn(gateway.reloader());
      }
      InetSocketAddress a = gateway.address();
      // One line on stdout for whoever started us (the log is on stderr), then the ready file.
      String url = (tls != null ? "https://" : "http://") + BindAddress.format(a);
      System.out.println("local-lambdas: listening on " + url);
      System.out.flush();
      ready.write(url);
      for (Debugging.Session session : debugging.sessions()) {
        System.out.println("local-lambdas: " + session.message());
      }
      System.out.flush();
      logger.info(
          "serving "
              + m.functions().size()
              + " function(s) from "
              + file
              + (tls != null ? " on https://" : " on http://")
              + BindAddress.format(a));
      for (FunctionSpec f : m.functions()) {
        logger.info(
            "  "
                + String.join(", ", f.routes())
                + "  ->  "
                + f.id()
                + " ("
                + f.protocol().manifestName()
                + ", "
                + f.startPolicy().name().toLowerCase(java.util.Locale.ROOT)
                + ")");
      }
      stopped.await();
      return 0;
    }
  }

  /** The TLS files the options name, or null for cleartext. */
  private static ServerTls tlsFrom(Serve s) throws ServerTls.BadTlsFiles {
    if (s.tlsSelfSigned) {
      if (s.tlsCert != null || s.tlsKey != null) {
        throw new ServerTls.BadTlsFiles(
            "--tls-self-signed and --tls-cert/--tls-key exclude each other: pass one or the other");
      }
      java.nio.file.Path dir = LocalCertificate.directory(System.getenv());
      ServerTls tls = LocalCertificate.ensure(dir);
      System.err.println(LocalCertificate.howToTrust(dir));
      return tls;
    }
    if ((s.tlsCert == null) != (s.tlsKey == null)) {
      throw new ServerTls.BadTlsFiles(
          "--tls-cert and --tls-key go together: pass the certificate chain and its key");
    }
    return s.tlsCert == null ? null : ServerTls.fromPem(s.tlsCert, s.tlsKey);
  }

  @Command(
      name = "validate",
      mixinStandardHelpOptions = true,
      description = {
        "Check a manifest without starting anything, with the same check serve makes: syntax,"
            + " every value, ids, routes (duplicate, ambiguous, not canonical, reserved), and that"
            + " every program and working directory exists. Prints every problem at once as"
            + " FILE:LINE: ... Exits 0 when valid (warnings alone do not fail), 1 otherwise."
      })
  static final class Validate implements Callable<Integer> {
    @Parameters(
        arity = "0..1",
        paramLabel = "MANIFEST",
        description = "Path of manifest.xml (default: as for serve).")
    Path manifest;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      LogSetup.configure(Level.WARNING);
      Path file = resolveManifest(manifest);
      ManifestCheck result = checkAndReport(file);
      if (!result.valid()) {
        System.err.println(
            "local-lambdas: "
                + file
                + " is not valid: "
                + result.errors().size()
                + " error(s), "
                + result.warnings().size()
                + " warning(s)");
        return 1;
      }
      Manifest m = result.manifest();
      PrintWriter out = spec.commandLine().getOut();
      out.println(
          file
              + ": valid, "
              + m.functions().size()
              + " function(s)"
              + (m.originalFormat()
                  ? " (original local_lambdas format: legacy JSON protocols)"
                  : "")
              + (result.warnings().isEmpty()
                  ? ""
                  : ", " + result.warnings().size() + " warning(s)"));
      for (FunctionSpec f : m.functions()) {
        out.println(
            "  "
                + f.id()
                + ": "
                + String.join(", ", f.routes())
                + " -> "
                + f.executable()
                + " "
                + String.join(" ", f.args())
                + " ["
                + f.protocol().manifestName()
                + "]");
      }
      out.flush();
      return 0;
    }
  }

  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      description = {
        "Write the manifest's lambda functions as a deployment template. 'export sam MANIFEST'"
            + " prints an AWS SAM template (AWS::Serverless::Function per lambda function, HttpApi"
            + " events for its routes) on stdout, or to --output FILE. See docs/lambda.md."
      })
  static final class Export implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FORMAT", description = "The template format: sam.")
    String format;

    @Parameters(
        index = "1",
        arity = "0..1",
        paramLabel = "MANIFEST",
        description = "Path of manifest.xml (default: as for serve).")
    Path manifest;

    @Option(
        names = {"-o", "--output"},
        paramLabel = "FILE",
        description = "Write the template to FILE instead of stdout.")
    Path output;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      if (!"sam".equals(format)) {
        spec.commandLine()
            .getErr()
            .println(
                "local-lambdas: unknown export format '"
                    + format
                    + "': the only one is sam (local-lambdas export sam MANIFEST)");
        return 2;
      }
      LogSetup.configure(Level.WARNING);
      Path file = resolveManifest(manifest);
      ManifestCheck result = checkAndReport(file);
      if (!result.valid()) {
        System.err.println("local-lambdas: " + file + " is not valid; nothing was exported");
        return 1;
      }
      String template = SamTemplate.of(result.manifest());
      if (output != null) {
        Files.writeString(output, template);
      } else {
        PrintWriter out = spec.commandLine().getOut();
        out.print(template);
        out.flush();
      }
      return 0;
    }
  }

  static Path resolveManifest(Path given) {
    if (given != null) {
      return given;
    }
    Path local = Path.of("manifest.xml");
    if (Files.exists(local)) {
      return local;
    }
    String home = System.getenv("LOCAL_LAMBDAS_HOME");
    Path demo =
        home != null
            ? Path.of(home, "examples", "manifest.xml")
            : Path.of("examples", "manifest.xml");
    return demo;
  }

  /** For serve: the manifest, after printing its warnings, or null after printing every problem. */
  static Manifest check(Path file) {
    ManifestCheck result = checkAndReport(file);
    if (!result.valid()) {
      System.err.println(
          "local-lambdas: "
              + file
              + " has errors (run 'local-lambdas validate "
              + file
              + "'); nothing was started");
    }
    return result.manifest();
  }

  /**
   * The one check behind validate and serve (ManifestReader.check): prints every error and warning,
   * one per line as FILE:LINE: ..., in file order.
   */
  static ManifestCheck checkAndReport(Path file) {
    ManifestCheck result = ManifestReader.check(file);
    result.problems().forEach(p -> System.err.println(p));
    return result;
  }
}
