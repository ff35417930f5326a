package dev.locallambdas.manifest;

import dev.locallambdas.routing.BadTargetException;
import dev.locallambdas.routing.RequestTarget;
import dev.locallambdas.routing.RouteTable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One function of the manifest: how to start its processes, which routes reach it, and the limits
 * its instances run under. Immutable; built with {@link #builder(String)}, which rejects every
 * impossible value with a message naming it (it never repairs a value silently).
 */
public final class FunctionSpec {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern MODULE =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");

  private final String id;
  private final String executable;
  private final List<String> args;
  private final List<String> routes;
  private final java.util.Set<String> extraMethods;
  private final String pipeName;
  private final Path workingDir;
  private final Protocol protocol;
  private final HttpListen httpListen;
  private final String readyPath;
  private final Map<String, String> env;
  private final StartPolicy startPolicy;
  private final int minInstances;
  private final int maxInstances;
  private final int spare;
  private final int concurrency;
  private final Duration idleTimeout;
  private final Duration startupTimeout;
  private final Duration requestTimeout;
  private final Duration queueTimeout;
  private final int queueSize;
  private final long maxBodyBytes;
  private final int maxRequestsPerInstance;
  private final Duration stopGrace;
  private final CacheSetting cache;
  private final List<String> templatePreload;
  private final String handler;
  private final int memoryMb;
  private final LambdaEvent event;
  private final SharedMemory sharedMemory;
  private final List<String> watch;
  private final java.util.Set<String> upgrades;
  private final Integer debugPort;

  private FunctionSpec(Builder b) {
    this.id = b.id;
    this.executable = b.executable;
    this.args = List.copyOf(b.args);
    this.routes = List.copyOf(b.routes);
    this.extraMethods = java.util.Set.copyOf(b.extraMethods);
    this.pipeName = b.pipeName;
    this.workingDir = b.workingDir;
    this.protocol = b.protocol;
    this.httpListen = b.httpListen;
    this.readyPath = b.readyPath;
    this.env = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.env));
    this.startPolicy = b.startPolicy;
    this.minInstances = b.minInstances;
    this.maxInstances = b.maxInstances != null ? b.maxInstances : defaultMaxInstances(b.protocol);
    this.concurrency =
        b.concurrency != null ? b.concurrency : defaultConcurrency(b.protocol, b.env);
    this.spare = b.spare;
    this.idleTimeout = b.idleTimeout;
    this.startupTimeout = b.startupTimeout;
    this.requestTimeout = b.requestTimeout;
    this.queueTimeout = b.queueTimeout;
    this.queueSize = b.queueSize;
    this.maxBodyBytes = b.maxBodyBytes != null ? b.maxBodyBytes : defaultMaxBodyBytes(b.protocol);
    this.maxRequestsPerInstance = b.maxRequestsPerInstance;
    this.stopGrace = b.stopGrace;
    this.cache = b.cache;
    this.templatePreload = b.templatePreload;
    this.handler = b.handler;
    this.memoryMb = b.memoryMb;
    this.event = b.event;
    this.sharedMemory = b.sharedMemory;
    this.watch = List.copyOf(b.watch);
    this.upgrades = java.util.Set.copyOf(b.upgrades);
    this.debugPort = b.debugPort;
  }

  static int defaultMaxInstances(Protocol p) {
    // Pipe children are single-threaded by default (concurrency 1), so parallelism comes from
    // instances; a child with its own web server handles concurrency itself.
    // A Lambda execution environment serves one invocation at a time, like a pipe child.
    return p == Protocol.PIPE || p == Protocol.LAMBDA || p == Protocol.IN_PROCESS ? 4 : 1;
  }

  /** Lambda's limit on a synchronous invocation's payload; 64 MiB for every other protocol. */
  static final long LAMBDA_PAYLOAD_BYTES = 6L * 1024 * 1024;

  static long defaultMaxBodyBytes(Protocol p) {
    return p == Protocol.LAMBDA ? LAMBDA_PAYLOAD_BYTES : 64L * 1024 * 1024;
  }

  static int defaultConcurrency(Protocol p, Map<String, String> env) {
    return switch (p) {
      case PIPE, LEGACY_PIPE -> 1;
      case HTTP, LEGACY_HTTP -> 64;
      // AWS_LAMBDA_MAX_CONCURRENCY is how a runtime learns it may poll /next concurrently.
      case LAMBDA -> lambdaConcurrency(env);
      // Each CGI request is a process of its own: this bounds how many run at once.
      case CGI -> 16;
      // One invocation at a time per handler instance, as in a Lambda execution environment.
      case IN_PROCESS -> 1;
    };
  }

  private static int lambdaConcurrency(Map<String, String> env) {
    String v = env.get("AWS_LAMBDA_MAX_CONCURRENCY");
    if (v == null) {
      return 1;
    }
    try {
      int n = Integer.parseInt(v.strip());
      return n >= 1 && n <= 65535 ? n : 1;
    } catch (NumberFormatException e) {
      return 1;
    }
  }

  public static Builder builder(String id) {
    return new Builder(id);
  }

  /** A builder seeded with every value of this spec. */
  public Builder toBuilder() {
    Builder b = new Builder(id);
    b.executable = executable;
    b.args.addAll(args);
    b.routes.addAll(routes);
    b.extraMethods.addAll(extraMethods);
    b.pipeName = pipeName;
    b.workingDir = workingDir;
    b.protocol = protocol;
    b.httpListen = httpListen;
    b.readyPath = readyPath;
    b.env.putAll(env);
    b.startPolicy = startPolicy;
    b.minInstances = minInstances;
    b.maxInstances = maxInstances;
    b.spare = spare;
    b.concurrency = concurrency;
    b.idleTimeout = idleTimeout;
    b.startupTimeout = startupTimeout;
    b.requestTimeout = requestTimeout;
    b.queueTimeout = queueTimeout;
    b.queueSize = queueSize;
    b.maxBodyBytes = maxBodyBytes;
    b.maxRequestsPerInstance = maxRequestsPerInstance;
    b.stopGrace = stopGrace;
    b.cache = cache;
    b.templatePreload = templatePreload;
    b.handler = handler;
    b.memoryMb = memoryMb;
    b.event = event;
    b.sharedMemory = sharedMemory;
    b.watch.addAll(watch);
    b.upgrades.addAll(upgrades);
    b.debugPort = debugPort;
    return b;
  }

  public String id() {
    return id;
  }

  /**
   * The port a debugger attaches to when this function runs under one ({@code <debug>} or {@code
   * serve --debug}): 0 for a free port chosen at start, null when it is not debugged.
   */
  public Integer debugPort() {
    return debugPort;
  }

  /** The program: a name looked up on PATH, or a path (relative paths against workingDir). */
  public String executable() {
    return executable;
  }

  public List<String> args() {
    return args;
  }

  /** Route patterns in manifest order, e.g. "/api/*" or "/health". */
  public List<String> routes() {
    return routes;
  }

  /**
   * Request methods this function accepts beyond the standard ones (GET, HEAD, POST, PUT, DELETE,
   * PATCH, OPTIONS), e.g. PROPFIND for WebDAV; other methods get 501 at the front door.
   */
  public java.util.Set<String> extraMethods() {
    return extraMethods;
  }

  /** The original's pipe_name, kept for compatibility and log labels; may be null. */
  public String pipeName() {
    return pipeName;
  }

  /** Directory the child runs in; null means the gateway's working directory. */
  public Path workingDir() {
    return workingDir;
  }

  public Protocol protocol() {
    return protocol;
  }

  public HttpListen httpListen() {
    return httpListen;
  }

  /**
   * For HTTP children: a path polled until it answers 2xx-4xx; null means "accepts a connection".
   */
  public String readyPath() {
    return readyPath;
  }

  /** Extra environment for the child, on top of the gateway's own. */
  public Map<String, String> env() {
    return env;
  }

  public StartPolicy startPolicy() {
    return startPolicy;
  }

  public int minInstances() {
    return minInstances;
  }

  public int maxInstances() {
    return maxInstances;
  }

  /**
   * Started instances kept beyond the busy ones while the function is in use, so that a burst, a
   * scale-up or a recycle finds one ready; they count against max_instances.
   */
  public int spare() {
    return spare;
  }

  /** Requests one instance serves at once. */
  public int concurrency() {
    return concurrency;
  }

  /** Idle time after which an instance above min_instances is stopped; zero means never. */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  public Duration startupTimeout() {
    return startupTimeout;
  }

  public Duration requestTimeout() {
    return requestTimeout;
  }

  /** How long a request may wait for a free instance before it gets 503. */
  public Duration queueTimeout() {
    return queueTimeout;
  }

  /** How many requests may wait for a free instance; more get 503 at once. */
  public int queueSize() {
    return queueSize;
  }

  public long maxBodyBytes() {
    return maxBodyBytes;
  }

  /** Requests after which an instance is recycled; zero means no limit. */
  public int maxRequestsPerInstance() {
    return maxRequestsPerInstance;
  }

  /** Time between SIGTERM and SIGKILL when an instance is stopped. */
  public Duration stopGrace() {
    return stopGrace;
  }

  /** How the response cache treats this function's responses. */
  public CacheSetting cache() {
    return cache;
  }

  /**
   * The modules a fork template imports besides the SDK (docs/cold-starts.md), or null when the
   * function has no template and every instance starts the plain way.
   */
  public List<String> templatePreload() {
    return templatePreload;
  }

  /** For lambda functions: the handler the runtime loads (_HANDLER), or null. */
  public String handler() {
    return handler;
  }

  /** For lambda functions: the memory size announced to the runtime, in MB (default 128). */
  public int memoryMb() {
    return memoryMb;
  }

  /** For lambda functions: the event an HTTP request becomes. */
  public LambdaEvent event() {
    return event;
  }

  /** Whether bodies may travel through shared memory (pipe functions). */
  public SharedMemory sharedMemory() {
    return sharedMemory;
  }

  /**
   * The {@code <watch>} globs (relative to the working directory) whose changes replace the
   * function's instances (docs/reload.md); empty: the default set, used under {@code serve
   * --watch}.
   */
  public List<String> watch() {
    return watch;
  }

  /**
   * The protocols a client may switch to through this function ({@code
   * <upgrade>websocket</upgrade>}, lower case; docs/websockets.md): empty, the default, refuses
   * every upgrade.
   */
  public java.util.Set<String> upgrades() {
    return upgrades;
  }

  /**
   * Every setting, in declaration order: two specs with equal definitions start identical
   * instances, so a manifest reload keeps such a function's pool (docs/reload.md). A field added to
   * this class must be added here too (FunctionSpecTest checks the count).
   */
  List<Object> definition() {
    return java.util.Arrays.asList(
        id,
        executable,
        args,
        routes,
        extraMethods,
        pipeName,
        workingDir,
        protocol,
        httpListen,
        readyPath,
        env,
        startPolicy,
        minInstances,
        maxInstances,
        spare,
        concurrency,
        idleTimeout,
        startupTimeout,
        requestTimeout,
        queueTimeout,
        queueSize,
        maxBodyBytes,
        maxRequestsPerInstance,
        stopGrace,
        cache,
        templatePreload,
        handler,
        memoryMb,
        event,
        sharedMemory,
        watch,
        debugPort,
        upgrades);
  }

  /** True when {@code other} defines the function with exactly the same settings. */
  public boolean sameDefinition(FunctionSpec other) {
    return other != null && definition().equals(other.definition());
  }

  @Override
  public String toString() {
    return "FunctionSpec[" + id + " " + protocol.manifestName() + " " + routes + "]";
  }

  /** Collects and validates a function's settings. Setters throw IllegalArgumentException. */
  public static final class Builder {
    private final String id;
    private String executable;
    private final List<String> args = new java.util.ArrayList<>();
    private final List<String> routes = new java.util.ArrayList<>();
    private final java.util.Set<String> extraMethods = new java.util.LinkedHashSet<>();
    private String pipeName;
    private Path workingDir;
    private Protocol protocol = Protocol.PIPE;
    private HttpListen httpListen = HttpListen.TCP;
    private String readyPath;
    private final Map<String, String> env = new LinkedHashMap<>();
    private StartPolicy startPolicy = StartPolicy.LAZY;
    private int minInstances = 0;
    private Integer maxInstances;
    private int spare = 0;
    private Integer concurrency;
    private Duration idleTimeout = Duration.ofMinutes(5);
    private Duration startupTimeout = Duration.ofSeconds(10);
    private Duration requestTimeout = Duration.ofSeconds(30);
    private Duration queueTimeout = Duration.ofSeconds(30);
    private int queueSize = 256;
    private Long maxBodyBytes;
    private int maxRequestsPerInstance = 0;
    private Duration stopGrace = Duration.ofSeconds(3);
    private CacheSetting cache = CacheSetting.DEFAULT;
    private List<String> templatePreload;
    private String handler;
    private int memoryMb = 128;
    private boolean lambdaSettings;
    private LambdaEvent event = LambdaEvent.HTTP_API;
    private SharedMemory sharedMemory = SharedMemory.AUTO;
    private final List<String> watch = new java.util.ArrayList<>();
    private final java.util.Set<String> upgrades = new java.util.TreeSet<>();
    private Integer debugPort;

    private Builder(String id) {
      Objects.requireNonNull(id, "id");
      if (!ID.matcher(id).matches()) {
        throw new IllegalArgumentException(
            "invalid function id "
                + Quote.of(id)
                + ": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
      }
      this.id = id;
    }

    public Builder executable(String value) {
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException("executable of '" + id + "' is empty: name a program");
      }
      this.executable = value.strip();
      return this;
    }

    public Builder arg(String value) {
      args.add(Objects.requireNonNull(value, "arg"));
      return this;
    }

    /**
     * Adds a route pattern; it must be one a {@link RouteTable} accepts (see {@link
     * RouteTable#checkPattern}), so that a validated manifest always builds the gateway's table.
     */
    public Builder route(String pattern) {
      RouteTable.checkPattern(pattern);
      routes.add(pattern);
      return this;
    }

    /** Accepts a request method beyond the standard ones; it must be an HTTP token. */
    public Builder method(String value) {
      if (value == null || value.isEmpty() || !value.chars().allMatch(Builder::tokenChar)) {
        throw new IllegalArgumentException(
            "method "
                + Quote.of(value)
                + " of '"
                + id
                + "' is not an HTTP method name (a token such as PROPFIND)");
      }
      if (value.equals("CONNECT") || value.equals("TRACE")) {
        throw new IllegalArgumentException(
            "method '"
                + value
                + "' of '"
                + id
                + "' cannot be routed to a function: the gateway never"
                + " forwards CONNECT or TRACE");
      }
      extraMethods.add(value);
      return this;
    }

    private static boolean tokenChar(int c) {
      return (c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    public Builder pipeName(String value) {
      this.pipeName = value;
      return this;
    }

    public Builder workingDir(Path value) {
      this.workingDir = value;
      return this;
    }

    public Builder protocol(Protocol value) {
      this.protocol = Objects.requireNonNull(value, "protocol");
      return this;
    }

    public Builder httpListen(HttpListen value) {
      this.httpListen = Objects.requireNonNull(value, "httpListen");
      return this;
    }

    public Builder readyPath(String value) {
      if (value != null && !value.startsWith("/")) {
        throw new IllegalArgumentException(
            "ready_path " + Quote.of(value) + " of '" + id + "' must start with '/'");
      }
      if (value != null) {
        try {
          // It becomes the target of the readiness request: a space or a control character
          // would break that request at every start, long after validate said yes.
          RequestTarget.parse(value);
        } catch (BadTargetException e) {
          throw new IllegalArgumentException(
              "ready_path "
                  + Quote.of(value)
                  + " of '"
                  + id
                  + "' is not a valid request target: "
                  + e.getMessage());
        }
      }
      this.readyPath = value;
      return this;
    }

    public Builder env(String name, String value) {
      if (name == null || name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            "environment variable name "
                + Quote.of(name)
                + " of '"
                + id
                + "' is empty or contains '=' or NUL");
      }
      if (value == null || value.indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            "environment variable "
                + Quote.of(name)
                + " of '"
                + id
                + "' has a missing value or a NUL");
      }
      if (env.put(name, value) != null) {
        throw new IllegalArgumentException(
            "environment variable " + Quote.of(name) + " of '" + id + "' is set twice");
      }
      return this;
    }

    /**
     * Sets a variable unless one of that name is already set: how env files fill in under {@code
     * <env>}.
     */
    public Builder envUnlessSet(String name, String value) {
      return env.containsKey(name) ? this : env(name, value);
    }

    /** Replaces every argument (a debugger's options go in front of the program's). */
    public Builder args(List<String> values) {
      args.clear();
      values.forEach(this::arg);
      return this;
    }

    /** Runs the function under its language's debugger, on {@code port} (0: a free one). */
    public Builder debug(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException(
            "debug port of '" + id + "' is " + port + ": it must be 0 to 65535");
      }
      this.debugPort = port;
      return this;
    }

    /** Not debugged (the default). */
    public Builder noDebug() {
      this.debugPort = null;
      return this;
    }

    public Builder startPolicy(StartPolicy value) {
      this.startPolicy = Objects.requireNonNull(value, "startPolicy");
      return this;
    }

    public Builder minInstances(int value) {
      this.minInstances = range("min_instances", value, 0, 1024);
      return this;
    }

    public Builder maxInstances(int value) {
      this.maxInstances = range("max_instances", value, 1, 1024);
      return this;
    }

    public Builder spare(int value) {
      this.spare = range("spare", value, 0, 1024);
      return this;
    }

    public Builder concurrency(int value) {
      this.concurrency = range("concurrency", value, 1, 65535);
      return this;
    }

    public Builder idleTimeout(Duration value) {
      this.idleTimeout = nonNegative("idle_timeout", value);
      return this;
    }

    public Builder startupTimeout(Duration value) {
      this.startupTimeout = positive("startup_timeout", value);
      return this;
    }

    public Builder requestTimeout(Duration value) {
      this.requestTimeout = positive("request_timeout", value);
      return this;
    }

    public Builder queueTimeout(Duration value) {
      this.queueTimeout = positive("queue_timeout", value);
      return this;
    }

    public Builder queueSize(int value) {
      this.queueSize = range("queue_size", value, 0, 1_000_000);
      return this;
    }

    public Builder maxBodyBytes(long value) {
      if (value < 0) {
        throw new IllegalArgumentException(
            "max_body_size of '" + id + "' is " + value + ": it must be zero or more bytes");
      }
      this.maxBodyBytes = value;
      return this;
    }

    public Builder maxRequestsPerInstance(int value) {
      this.maxRequestsPerInstance = range("max_requests_per_instance", value, 0, Integer.MAX_VALUE);
      return this;
    }

    public Builder stopGrace(Duration value) {
      this.stopGrace = nonNegative("stop_grace", value);
      return this;
    }

    public Builder cache(CacheSetting value) {
      this.cache = Objects.requireNonNull(value, "cache");
      return this;
    }

    /**
     * Gives the function a fork template that imports the SDK and {@code preload} (module names);
     * null removes it.
     */
    public Builder template(List<String> preload) {
      if (preload != null) {
        for (String m : preload) {
          if (m == null || !MODULE.matcher(m).matches()) {
            throw new IllegalArgumentException(
                "preload "
                    + Quote.of(m)
                    + " of '"
                    + id
                    + "' is not a Python module name (dotted identifiers, e.g. json or"
                    + " email.parser)");
          }
        }
      }
      this.templatePreload = preload == null ? null : List.copyOf(preload);
      return this;
    }

    /**
     * Adds a {@code <watch>} glob: files whose change replaces the function's instances, relative
     * to the working directory (docs/reload.md), e.g. {@code src/**} or {@code target/app.jar}.
     */
    public Builder watch(String glob) {
      if (glob == null || glob.isBlank()) {
        throw new IllegalArgumentException(
            "watch of '" + id + "' is empty: give a glob such as src/** or app.jar");
      }
      try {
        java.nio.file.FileSystems.getDefault().getPathMatcher("glob:" + glob.strip());
      } catch (java.util.regex.PatternSyntaxException e) {
        throw new IllegalArgumentException(
            "watch " + Quote.of(glob) + " of '" + id + "' is not a glob: " + e.getDescription(), e);
      }
      this.watch.add(glob.strip());
      return this;
    }

    /**
     * Lets clients switch the connection to {@code protocol} (an HTTP token such as websocket)
     * through this function: the gateway then relays the child's 101 and both directions' bytes.
     */
    public Builder upgrade(String protocol) {
      String p = protocol == null ? "" : protocol.strip();
      if (p.isEmpty()
          || !p.chars().allMatch(c -> c > 32 && c < 127 && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0)) {
        throw new IllegalArgumentException(
            "upgrade "
                + Quote.of(protocol == null ? "" : protocol)
                + " of '"
                + id
                + "' is not a protocol name: give one such as websocket");
      }
      if (p.equalsIgnoreCase("h2c")) {
        throw new IllegalArgumentException(
            "upgrade h2c of '"
                + id
                + "': the front door itself speaks HTTP/2 (docs/http2.md); name protocols such as"
                + " websocket that the function's server speaks");
      }
      upgrades.add(p.toLowerCase(java.util.Locale.ROOT));
      return this;
    }

    /** The handler a Lambda runtime loads, e.g. example.Hello::handleRequest or index.handler. */
    public Builder handler(String value) {
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException("handler of '" + id + "' is empty: name the handler");
      }
      this.handler = value.strip();
      lambdaSettings = true;
      return this;
    }

    /** The memory size a Lambda runtime is told, in MB, within AWS's 128 to 10240. */
    public Builder memoryMb(int value) {
      this.memoryMb = range("memory", value, 128, 10240);
      lambdaSettings = true;
      return this;
    }

    public Builder event(LambdaEvent value) {
      this.event = Objects.requireNonNull(value, "event");
      lambdaSettings = true;
      return this;
    }

    public Builder sharedMemory(SharedMemory value) {
      this.sharedMemory = Objects.requireNonNull(value, "sharedMemory");
      return this;
    }

    /** Validates the combination and returns the spec. */
    public FunctionSpec build() {
      if (executable == null) {
        throw new IllegalArgumentException(
            "function '" + id + "' has no executable: add <executable>");
      }
      if (routes.isEmpty()) {
        throw new IllegalArgumentException(
            "function '" + id + "' has no route: add <route>/" + id + "/*</route>");
      }
      int max = maxInstances != null ? maxInstances : defaultMaxInstances(protocol);
      if (minInstances > max) {
        throw new IllegalArgumentException(
            "function '"
                + id
                + "': min_instances "
                + minInstances
                + " is more than max_instances "
                + max);
      }
      if (spare > max) {
        throw new IllegalArgumentException(
            "function '"
                + id
                + "': spare "
                + spare
                + " is more than max_instances "
                + max
                + " (spare instances count against max_instances)");
      }
      if (templatePreload != null) {
        checkTemplate();
      }
      if (readyPath != null && !protocol.childServesHttp()) {
        throw new IllegalArgumentException(
            "function '"
                + id
                + "': ready_path only applies to http and legacy-http functions, not "
                + protocol.manifestName());
      }
      if (httpListen == HttpListen.UNIX && protocol != Protocol.HTTP) {
        throw new IllegalArgumentException(
            "function '"
                + id
                + "': http_listen unix only applies to protocol http, not "
                + protocol.manifestName());
      }
      if (lambdaSettings && protocol != Protocol.LAMBDA && protocol != Protocol.IN_PROCESS) {
        throw new IllegalArgumentException(
            "function '"
                + id
                + "': handler, memory and event only apply to protocols lambda and in-process, not "
                + protocol.manifestName());
      }
      if (!upgrades.isEmpty() && protocol != Protocol.HTTP) {
        throw new IllegalArgumentException(
            "function '"
                + id
                + "': upgrade (WebSockets) only applies to protocol http, whose child runs its own"
                + " server, not "
                + protocol.manifestName());
      }
      if (protocol == Protocol.IN_PROCESS && handler == null) {
        throw new IllegalArgumentException(
            "function '"
                + id
                + "': protocol in-process needs a <handler>, the class to load, e.g."
                + " <handler>example.Hello</handler>");
      }
      return new FunctionSpec(this);
    }

    private void checkTemplate() {
      if (protocol != Protocol.PIPE) {
        throw new IllegalArgumentException(
            "function '"
                + id
                + "': template only applies to protocol pipe (Python SDK functions), not "
                + protocol.manifestName());
      }
      if (!PythonCommand.isPython(executable)) {
        throw new IllegalArgumentException(
            "function '"
                + id
                + "': template only works for Python functions, and executable "
                + Quote.of(executable)
                + " is not a Python interpreter (python3, python3.12, pypy3, .venv/bin/python)");
      }
      try {
        PythonCommand.parse(args);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("function '" + id + "': template: " + e.getMessage(), e);
      }
    }

    private int range(String name, int value, int min, int max) {
      if (value < min || value > max) {
        throw new IllegalArgumentException(
            name + " of '" + id + "' is " + value + ": it must be between " + min + " and " + max);
      }
      return value;
    }

    private Duration positive(String name, Duration value) {
      if (value == null || value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(
            name + " of '" + id + "' is " + value + ": it must be more than zero");
      }
      return value;
    }

    private Duration nonNegative(String name, Duration value) {
      if (value == null || value.isNegative()) {
        throw new IllegalArgumentException(
            name + " of '" + id + "' is " + value + ": it must be zero or more");
      }
      return value;
    }
  }
}
