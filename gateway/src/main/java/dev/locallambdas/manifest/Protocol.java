package dev.locallambdas.manifest;

import java.util.Locale;

/** How the gateway talks to a function's processes. */
public enum Protocol {
  /** local-lambdas' binary frame protocol over a Unix domain socket (docs/protocol.md). */
  PIPE("pipe"),
  /** Reverse proxy to the child's own HTTP server. */
  HTTP("http"),
  /** The original local_lambdas JSON+base64 protocol over a Unix socket the child listens on. */
  LEGACY_PIPE("legacy-pipe"),
  /** The original local_lambdas JSON+base64 protocol POSTed to the child's HTTP server. */
  LEGACY_HTTP("legacy-http"),
  /** The AWS Lambda Runtime API, served by the gateway to a Lambda runtime (docs/lambda.md). */
  LAMBDA("lambda"),
  /** RFC 3875 CGI: the program is started for each request (docs/cgi.md). */
  CGI("cgi"),
  /**
   * A Java handler loaded into the gateway in a class loader of its own ({@code <executable>} is
   * its jar or class directory, {@code <handler>} its class; docs/in-process.md).
   */
  IN_PROCESS("in-process");

  private final String manifestName;

  Protocol(String manifestName) {
    this.manifestName = manifestName;
  }

  /** The spelling used in manifest.xml. */
  public String manifestName() {
    return manifestName;
  }

  /** True when the child runs its own HTTP server. */
  public boolean childServesHttp() {
    return this == HTTP || this == LEGACY_HTTP;
  }

  /** True when an instance has no long-lived process of its own (CGI forks per request). */
  public boolean processless() {
    return this == CGI || this == IN_PROCESS;
  }

  /** Parses the manifest spelling; null when unknown. */
  public static Protocol fromManifestName(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    for (Protocol p : values()) {
      if (p.manifestName.equals(n)) {
        return p;
      }
    }
    return null;
  }
}
