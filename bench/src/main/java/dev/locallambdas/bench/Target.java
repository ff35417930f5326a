package dev.locallambdas.bench;

import java.util.List;

/** A bundled benchmark function and the path the suite calls it on. */
record Target(String name, String function, String path, String transport, String runtime) {
  static final Target CACHED = new Target("cached", "cached", "/cached/cached", "cache", "python");
  static final Target PIPE_PYTHON = warm("pipe", "python");
  static final Target PIPE_JAVA = warm("pipe", "java");
  static final Target HTTP_PYTHON = warm("http", "python");
  static final Target HTTP_JAVA = warm("http", "java");
  static final Target COLD_PIPE_PYTHON = cold("pipe", "python");
  static final Target COLD_PIPE_JAVA = cold("pipe", "java");
  static final Target COLD_HTTP_PYTHON = cold("http", "python");
  static final Target COLD_HTTP_JAVA = cold("http", "java");

  /**
   * The pipe functions with shared memory switched off (bench/manifest.xml): large bodies in
   * frames, to compare with the shared-memory bodies of PIPE_PYTHON and PIPE_JAVA (ADR 0011).
   */
  static final Target PIPE_FRAMES_PYTHON = frames("python");

  static final Target PIPE_FRAMES_JAVA = frames("java");

  /** The warm targets of load, rate and payload modes, in report order. */
  static final List<Target> WARM = List.of(PIPE_PYTHON, PIPE_JAVA, HTTP_PYTHON, HTTP_JAVA);

  /** The payload mode's targets: a frames twin after each pipe target. */
  static final List<Target> PAYLOAD =
      List.of(PIPE_PYTHON, PIPE_FRAMES_PYTHON, PIPE_JAVA, PIPE_FRAMES_JAVA, HTTP_PYTHON, HTTP_JAVA);

  private static Target frames(String runtime) {
    String id = "pipe-frames-" + runtime;
    return new Target(id, id, "/" + id + "/hello", "pipe-frames", runtime);
  }

  /** For a frames twin, the pipe target it is compared with; else the target itself. */
  Target sibling() {
    if (equals(PIPE_FRAMES_PYTHON)) {
      return PIPE_PYTHON;
    }
    return equals(PIPE_FRAMES_JAVA) ? PIPE_JAVA : this;
  }

  private static Target warm(String transport, String runtime) {
    String id = transport + "-" + runtime;
    return new Target(id, id, "/" + id + "/hello", transport, runtime);
  }

  private static Target cold(String transport, String runtime) {
    String id = "cold-" + transport + "-" + runtime;
    return new Target(id, id, "/" + id + "/hello", transport, runtime);
  }

  static Target named(String name) {
    for (Target t : List.of(CACHED, PIPE_PYTHON, PIPE_JAVA, HTTP_PYTHON, HTTP_JAVA)) {
      if (t.name.equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "unknown target '"
            + name
            + "': use cached, pipe-python, pipe-java, http-python or http-java");
  }
}
