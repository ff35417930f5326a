package dev.locallambdas.function;

/** A read-only snapshot of one instance, for tests, logs and metrics. */
public record InstanceView(int number, long pid, InstanceState state, int inFlight, int served) {}
