package dev.locallambdas.manifest;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Turns one {@code <process>} (or {@code <function>}) element into a {@link FunctionSpec},
 * recording every problem on the way instead of stopping at the first.
 */
final class FunctionReader {
  /** What one element may look like inside a function. */
  private record Rule(
      boolean repeatable, boolean mayBeEmpty, Set<String> attributes, boolean holdsElements) {
    Rule(boolean repeatable, boolean mayBeEmpty, Set<String> attributes) {
      this(repeatable, mayBeEmpty, attributes, false);
    }
  }

  private static final Rule SINGLE = new Rule(false, false, Set.of());
  private static final Map<String, Rule> RULES = rules();

  /** The elements after which a build() failure is most likely caused, most specific first. */
  private static final List<String> BUILD_CULPRITS =
      List.of(
          "min_instances",
          "spare",
          "max_instances",
          "template",
          "http_listen",
          "ready_path",
          "handler",
          "memory",
          "event",
          "protocol",
          "communication_mode");

  /** Placeholder id so that the other elements are still checked when the id is bad. */
  private static final String PLACEHOLDER_ID = "unnamed";

  private static Map<String, Rule> rules() {
    Map<String, Rule> r = new LinkedHashMap<>();
    r.put("id", SINGLE);
    r.put("executable", SINGLE);
    r.put("arg", new Rule(true, true, Set.of()));
    r.put("route", new Rule(true, false, Set.of()));
    r.put("method", new Rule(true, false, Set.of()));
    r.put("pipe_name", SINGLE);
    r.put("working_dir", SINGLE);
    r.put("communication_mode", SINGLE);
    r.put("protocol", SINGLE);
    r.put("env", new Rule(true, true, Set.of("name")));
    r.put("env_file", new Rule(true, false, Set.of()));
    r.put("debug", new Rule(false, true, Set.of()));
    r.put("start", SINGLE);
    r.put("min_instances", SINGLE);
    r.put("max_instances", SINGLE);
    r.put("spare", SINGLE);
    r.put("concurrency", SINGLE);
    r.put("idle_timeout", SINGLE);
    r.put("startup_timeout", SINGLE);
    r.put("request_timeout", SINGLE);
    r.put("queue_timeout", SINGLE);
    r.put("queue_size", SINGLE);
    r.put("max_body_size", SINGLE);
    r.put("max_requests_per_instance", SINGLE);
    r.put("stop_grace", SINGLE);
    r.put("http_listen", SINGLE);
    r.put("ready_path", SINGLE);
    r.put("shared_memory", SINGLE);
    r.put("cache", new Rule(false, true, Set.of(), true));
    r.put("template", new Rule(false, true, Set.of(), true));
    r.put("handler", SINGLE);
    r.put("memory", SINGLE);
    r.put("event", SINGLE);
    r.put("watch", new Rule(true, false, Set.of()));
    r.put("upgrade", new Rule(true, false, Set.of()));
    return Map.copyOf(r);
  }

  /**
   * How the function elements of one manifest are interpreted: {@code manifestDir} is where {@code
   * <env_file>} paths resolve, {@code dotEnv} the variables of the {@code .env} beside the manifest
   * (every function's, under its own env files and {@code <env>}).
   */
  record Context(
      boolean originalFormat, Path baseDir, Path manifestDir, Map<String, String> dotEnv) {
    Context(boolean originalFormat, Path baseDir) {
      this(originalFormat, baseDir, baseDir, Map.of());
    }
  }

  /** A pattern and the line it was declared on. */
  record RouteAt(String pattern, int line) {}

  /**
   * The program of a function and where it runs, with the lines that declared them (the working
   * directory's line is the function's own when it has no {@code <working_dir>}).
   */
  record Program(String executable, int executableLine, Path workingDir, int workingDirLine) {}

  /**
   * The outcome: {@code spec} is null when the function has errors; {@code id} is null when it has
   * none. {@code routes} are the well-formed route patterns, for the manifest-wide conflict check,
   * and {@code program} is null when the executable or the working directory is missing or
   * malformed; both are given even when the function has other errors, so that one run reports
   * every problem.
   */
  record Result(
      FunctionSpec spec,
      String id,
      int idLine,
      String label,
      List<RouteAt> routes,
      Program program) {}

  /** A usable (trimmed, non-empty unless allowed) value of a child element. */
  private record Value(XmlElement element, String text) {}

  private final XmlElement element;
  private final Context context;
  private final Problems problems;
  private final Map<String, List<Value>> values = new LinkedHashMap<>();
  private String label;
  private String builderId;
  private FunctionSpec.Builder builder;
  private final List<RouteAt> routes = new ArrayList<>();
  private Path workingDir;
  private int workingDirLine;
  private StartPolicy startPolicy;
  private boolean neverIdle;

  private FunctionReader(XmlElement element, Context context, Problems problems) {
    this.element = element;
    this.context = context;
    this.problems = problems;
  }

  /** True when {@code name} is an element of a function, e.g. to explain a misplaced one. */
  static boolean isFunctionElement(String name) {
    return RULES.containsKey(name);
  }

  static Result read(XmlElement element, Context context, Problems problems) {
    return new FunctionReader(element, context, problems).read();
  }

  private Result read() {
    int before = problems.count();
    String rawId = firstText("id");
    label =
        rawId != null && !rawId.isEmpty()
            ? Quote.of(rawId)
            : "the <" + element.name() + "> at line " + element.line();
    checkShape();
    Value id = first("id");
    if (id == null) {
      if (!values.containsKey("id")) {
        problems.add(
            element.line(),
            "<" + element.name() + ">",
            "has no <id>: add one, e.g. <id>hello</id>");
      }
      useBuilder(PLACEHOLDER_ID);
    } else {
      try {
        builder = FunctionSpec.builder(id.text());
        builderId = id.text();
      } catch (IllegalArgumentException e) {
        problems.add(id.element().line(), "<id>", e.getMessage());
        useBuilder(PLACEHOLDER_ID);
      }
    }
    apply();
    requirePresent("executable", "add the program to run, e.g. <executable>python3</executable>");
    requirePresent(
        "route",
        "add the path it serves, e.g. <route>/"
            + (builderId.equals(PLACEHOLDER_ID) ? "hello" : builderId)
            + "/*</route>");
    FunctionSpec spec = problems.count() == before ? build() : null;
    return new Result(
        spec,
        id == null ? null : id.text(),
        id == null ? 0 : id.element().line(),
        label,
        List.copyOf(routes),
        program());
  }

  private Program program() {
    Value executable = first("executable");
    if (executable == null || workingDir == null) {
      return null;
    }
    return new Program(executable.text(), executable.element().line(), workingDir, workingDirLine);
  }

  private void requirePresent(String name, String fix) {
    if (!values.containsKey(name)) {
      problems.add(
          element.line(), "<" + element.name() + "> of " + label, "has no <" + name + ">: " + fix);
    }
  }

  private void useBuilder(String id) {
    builder = FunctionSpec.builder(id);
    builderId = id;
  }

  /** Checks attributes, stray text and each child's form; fills {@link #values}. */
  private void checkShape() {
    String where = "<" + element.name() + "> of " + label;
    for (XmlElement.XmlAttribute a : element.attributes()) {
      String hint =
          RULES.containsKey(a.name())
              ? ": write it as an element, <" + a.name() + ">" + a.value() + "</" + a.name() + ">"
              : ": <" + element.name() + "> takes no attributes";
      problems.add(element.line(), where, "unknown attribute " + a.name() + hint);
    }
    if (!element.text().isBlank()) {
      problems.add(
          element.textLine(),
          where,
          "unexpected text '"
              + abbreviate(element.text().strip())
              + "': values go inside elements such as <arg>");
    }
    Map<String, Integer> firstLine = new LinkedHashMap<>();
    for (XmlElement child : element.children()) {
      String name = child.name();
      Rule rule = RULES.get(name);
      String childLabel = "<" + abbreviate(name) + "> of " + label;
      if (rule == null) {
        String guess = Suggestions.closest(name, RULES.keySet());
        if (context.originalFormat()) {
          // The original (serde) ignored elements it did not know; its manifests may carry
          // notes such as <description>.
          problems.warn(
              child.line(),
              childLabel,
              "unknown element, ignored (as the original local_lambdas ignored it)"
                  + (guess != null ? "; did you mean <" + guess + ">?" : ""));
          continue;
        }
        problems.add(
            child.line(),
            childLabel,
            "unknown element"
                + (guess != null
                    ? ": did you mean <" + guess + ">?"
                    : "; known elements are "
                        + String.join(", ", RULES.keySet().stream().sorted().toList())));
        continue;
      }
      values.computeIfAbsent(name, k -> new ArrayList<>());
      boolean usable = true;
      for (XmlElement.XmlAttribute a : child.attributes()) {
        if (!rule.attributes().contains(a.name())) {
          String guess = Suggestions.closest(a.name(), rule.attributes());
          problems.add(
              child.line(),
              childLabel,
              "unknown attribute "
                  + a.name()
                  + (guess != null
                      ? ": did you mean " + guess + "?"
                      : rule.attributes().isEmpty()
                          ? ": <" + name + "> takes no attributes"
                          : ": known attributes are " + String.join(", ", rule.attributes())));
          usable = false;
        }
      }
      if (rule.holdsElements()) {
        if (!child.text().isBlank()) {
          problems.add(
              child.textLine(),
              childLabel,
              "unexpected text '"
                  + abbreviate(child.text().strip())
                  + "': values go inside its elements, e.g. <ttl>30s</ttl>");
          usable = false;
        }
      } else if (!child.children().isEmpty()) {
        problems.add(
            child.children().getFirst().line(),
            childLabel,
            "holds text, not elements: move <"
                + child.children().getFirst().name()
                + "> out of it");
        usable = false;
      }
      Integer seen = firstLine.putIfAbsent(name, child.line());
      if (seen != null && !rule.repeatable()) {
        problems.add(
            child.line(), childLabel, "given twice (first at line " + seen + "): keep one");
        continue;
      }
      String text = rule.holdsElements() ? "" : child.text().strip();
      if (text.isEmpty() && !rule.mayBeEmpty()) {
        problems.add(child.line(), childLabel, "is empty: give a value or remove the element");
        usable = false;
      }
      if (usable) {
        values.get(name).add(new Value(child, text));
      }
    }
  }

  private void apply() {
    single("executable", builder::executable);
    each("arg", (e, v) -> builder.arg(v));
    each(
        "route",
        (e, v) -> {
          builder.route(v);
          routes.add(new RouteAt(v, e.line()));
        });
    each("method", (e, v) -> builder.method(v));
    single("pipe_name", builder::pipeName);
    applyWorkingDir();
    applyProtocol();
    each("env", this::applyEnv);
    applyEnvFiles();
    single("debug", v -> builder.debug(v.isEmpty() ? 0 : debugPort(v)));
    applyLifecycle();
    single("min_instances", v -> builder.minInstances(ManifestValues.integer(v)));
    single("max_instances", v -> builder.maxInstances(ManifestValues.integer(v)));
    single("spare", v -> builder.spare(ManifestValues.integer(v)));
    single("concurrency", v -> builder.concurrency(ManifestValues.integer(v)));
    single("startup_timeout", v -> builder.startupTimeout(ManifestValues.duration(v)));
    single("request_timeout", v -> builder.requestTimeout(ManifestValues.duration(v)));
    single("queue_timeout", v -> builder.queueTimeout(ManifestValues.duration(v)));
    single("queue_size", v -> builder.queueSize(ManifestValues.integer(v)));
    single("max_body_size", v -> builder.maxBodyBytes(ManifestValues.size(v)));
    single(
        "max_requests_per_instance",
        v -> builder.maxRequestsPerInstance(ManifestValues.integer(v)));
    single("stop_grace", v -> builder.stopGrace(ManifestValues.duration(v)));
    single(
        "http_listen",
        v -> builder.httpListen(choice(v, Map.of("tcp", HttpListen.TCP, "unix", HttpListen.UNIX))));
    single("ready_path", builder::readyPath);
    single("handler", builder::handler);
    single("memory", v -> builder.memoryMb(ManifestValues.integer(v)));
    single(
        "event",
        v ->
            builder.event(
                choice(
                    v,
                    Map.of(
                        "http-api", LambdaEvent.HTTP_API,
                        "rest-api", LambdaEvent.REST_API,
                        "raw", LambdaEvent.RAW))));
    single(
        "shared_memory",
        v ->
            builder.sharedMemory(
                choice(
                    v,
                    Map.of(
                        "auto",
                        SharedMemory.AUTO,
                        "on",
                        SharedMemory.ON,
                        "off",
                        SharedMemory.OFF))));
    applyCache();
    applyTemplate();
    each("watch", (e, v) -> builder.watch(v));
    each("upgrade", (e, v) -> builder.upgrade(v));
  }

  /** {@code <template>} with {@code <preload>MODULE</preload>} children, or empty. */
  private void applyTemplate() {
    Value v = first("template");
    if (v == null) {
      return;
    }
    List<String> preload = new ArrayList<>();
    boolean usable = true;
    for (XmlElement child : v.element().children()) {
      String where = "<" + abbreviate(child.name()) + "> in <template> of " + label;
      if (!child.name().equals("preload")) {
        problems.add(
            child.line(),
            where,
            "unknown element: <template> holds only <preload>MODULE</preload>");
        usable = false;
      } else if (!child.attributes().isEmpty() || !child.children().isEmpty()) {
        problems.add(child.line(), where, "takes a module name only, no attributes or elements");
        usable = false;
      } else if (child.text().isBlank()) {
        problems.add(child.line(), where, "is empty: name a module, e.g. <preload>json</preload>");
        usable = false;
      } else {
        preload.add(child.text().strip());
      }
    }
    if (usable) {
      apply(v, () -> builder.template(preload));
    }
  }

  /**
   * start, idle_timeout and, in the original format, the min_instances they imply. The original
   * started every process at launch and never stopped one for idleness, and children written for it
   * may keep state in memory (ADR 0007): so the original format defaults to eager and never, and
   * then keeps one instance, which also restarts a crashed one at once (ensureMinimum, with the
   * crash-loop back-off). What the manifest says wins.
   */
  private void applyLifecycle() {
    boolean original = context.originalFormat();
    startPolicy = original ? StartPolicy.EAGER : StartPolicy.LAZY;
    neverIdle = original;
    builder.startPolicy(startPolicy);
    if (original) {
      builder.idleTimeout(Duration.ZERO);
    }
    single(
        "start",
        v -> {
          startPolicy = choice(v, Map.of("lazy", StartPolicy.LAZY, "eager", StartPolicy.EAGER));
          builder.startPolicy(startPolicy);
        });
    single(
        "idle_timeout",
        v -> {
          Duration d = ManifestValues.durationOrNever(v);
          builder.idleTimeout(d);
          neverIdle = d.isZero();
        });
    if (original && startPolicy == StartPolicy.EAGER && neverIdle) {
      builder.minInstances(1); // an explicit <min_instances>, applied after this, wins
    }
  }

  private void applyCache() {
    Value v = first("cache");
    CacheSetting s =
        CacheReader.read(v == null ? null : v.element(), context.originalFormat(), label, problems);
    if (s != null) {
      builder.cache(s);
    }
  }

  private void applyWorkingDir() {
    Value v = first("working_dir");
    if (v == null) {
      workingDir = context.baseDir();
      workingDirLine = element.line();
      builder.workingDir(workingDir);
      return;
    }
    try {
      workingDir = context.baseDir().resolve(Path.of(v.text())).normalize();
      workingDirLine = v.element().line();
      builder.workingDir(workingDir);
    } catch (InvalidPathException e) {
      problems.add(
          v.element().line(),
          "<working_dir> of " + label,
          Quote.of(v.text()) + " is not a valid path: " + e.getReason());
    }
  }

  private void applyProtocol() {
    Value protocol = first("protocol");
    Value mode = first("communication_mode");
    if (protocol != null && mode != null) {
      Value later = protocol.element().line() >= mode.element().line() ? protocol : mode;
      problems.add(
          later.element().line(),
          "<" + later.element().name() + "> of " + label,
          "both <protocol> and <communication_mode> are given: use one");
      return;
    }
    if (protocol != null) {
      single(
          "protocol",
          v -> {
            Protocol p = Protocol.fromManifestName(v);
            if (p == null) {
              List<String> names =
                  java.util.Arrays.stream(Protocol.values()).map(Protocol::manifestName).toList();
              String guess = Suggestions.closest(v, names);
              throw new IllegalArgumentException(
                  Quote.of(v)
                      + " is not a protocol: use "
                      + String.join(", ", names)
                      + (guess != null ? " (did you mean " + guess + "?)" : ""));
            }
            builder.protocol(p);
          });
    } else if (mode != null) {
      // communication_mode is the original's element: in the original format it keeps the
      // original's JSON protocols; in version 1 it names local-lambdas' own protocols.
      Protocol pipe = context.originalFormat() ? Protocol.LEGACY_PIPE : Protocol.PIPE;
      Protocol http = context.originalFormat() ? Protocol.LEGACY_HTTP : Protocol.HTTP;
      single(
          "communication_mode",
          v -> builder.protocol(choice(v, Map.of("pipe", pipe, "http", http))));
    } else {
      builder.protocol(context.originalFormat() ? Protocol.LEGACY_PIPE : Protocol.PIPE);
    }
  }

  private void applyEnv(XmlElement e, String value) {
    XmlElement.XmlAttribute name = e.attribute("name");
    if (name == null) {
      throw new IllegalArgumentException(
          "has no name attribute: write it like <env name=\"GREETING\">hello</env>");
    }
    builder.env(name.value().strip(), value);
  }

  /**
   * The {@code .env} beside the manifest, then each {@code <env_file>} in order, under what {@code
   * <env>} set: the most specific declaration wins (ADR 0016). Values are never quoted in a
   * problem.
   */
  private void applyEnvFiles() {
    Map<String, String> merged = new LinkedHashMap<>(context.dotEnv());
    for (Value v : values.getOrDefault("env_file", List.of())) {
      Map<String, String> file =
          EnvFiles.read(context.manifestDir(), v.text(), v.element().line(), label, problems);
      if (file != null) {
        merged.putAll(file);
      }
    }
    merged.forEach(
        (name, value) -> {
          try {
            builder.envUnlessSet(name, value);
          } catch (IllegalArgumentException e) {
            problems.add(element.line(), "<" + element.name() + "> of " + label, e.getMessage());
          }
        });
  }

  private static int debugPort(String v) {
    int port = ManifestValues.integer(v);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(
          v + " is not a port: use 1 to 65535, 0 or nothing for a free one (<debug/>)");
    }
    return port;
  }

  private static <T> T choice(String v, Map<String, T> options) {
    T t = options.get(v.toLowerCase(Locale.ROOT));
    if (t == null) {
      List<String> names = options.keySet().stream().sorted().toList();
      String guess = Suggestions.closest(v, names);
      throw new IllegalArgumentException(
          Quote.of(v)
              + " is not allowed: use "
              + String.join(" or ", names)
              + (guess != null ? " (did you mean " + guess + "?)" : ""));
    }
    return t;
  }

  private void single(String name, Consumer<String> setter) {
    Value v = first(name);
    if (v != null) {
      apply(v, () -> setter.accept(v.text()));
    }
  }

  private void each(String name, BiConsumer<XmlElement, String> setter) {
    for (Value v : values.getOrDefault(name, List.of())) {
      apply(v, () -> setter.accept(v.element(), v.text()));
    }
  }

  private void apply(Value v, Runnable action) {
    try {
      action.run();
    } catch (IllegalArgumentException e) {
      String name = v.element().name();
      problems.add(
          v.element().line(), "<" + name + "> of " + label, clean(name, v.text(), e.getMessage()));
    }
  }

  private FunctionSpec build() {
    try {
      return builder.build();
    } catch (IllegalArgumentException e) {
      for (String culprit : BUILD_CULPRITS) {
        Value v = first(culprit);
        if (v != null && e.getMessage().contains(culprit)) {
          problems.add(
              v.element().line(),
              "<" + culprit + "> of " + label,
              clean(culprit, v.text(), e.getMessage()));
          return null;
        }
      }
      problems.add(
          element.line(),
          "<" + element.name() + "> of " + label,
          clean(element.name(), "", e.getMessage()));
      return null;
    }
  }

  /**
   * Rewrites FunctionSpec's self-contained messages for a problem that already names the element
   * and the function: "max_instances of 'x' is 0: it must be ..." becomes "0 is not allowed: it
   * must be ...", quoting the value as written rather than as parsed.
   */
  private String clean(String name, String raw, String message) {
    String m =
        message
            .replace("function '" + builderId + "': ", "")
            .replace(" of '" + builderId + "'", "");
    if (m.startsWith(name + " is ")) {
      String rest = m.substring(name.length() + " is ".length());
      int colon = rest.indexOf(": ");
      if (colon > 0) {
        return raw + " is not allowed: " + rest.substring(colon + 2);
      }
    }
    return m;
  }

  private Value first(String name) {
    List<Value> list = values.get(name);
    return list == null || list.isEmpty() ? null : list.getFirst();
  }

  private String firstText(String name) {
    for (XmlElement child : element.children()) {
      if (child.name().equals(name)) {
        return child.text().strip();
      }
    }
    return null;
  }

  static String abbreviate(String s) {
    String oneLine = s.replaceAll("\\s+", " ");
    return oneLine.length() <= 40 ? oneLine : oneLine.substring(0, 37) + "...";
  }
}
