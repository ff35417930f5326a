package dev.locallambdas.manifest;

/** When a function's first instance is started. */
public enum StartPolicy {
  /** On the first request (the default): scale from zero. */
  LAZY,
  /** When the gateway starts, and kept at least at min_instances. */
  EAGER
}
