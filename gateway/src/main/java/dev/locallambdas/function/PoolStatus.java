package dev.locallambdas.function;

/**
 * A snapshot of a pool's state besides its instances: requests waiting and being served, whether
 * the admin API drained it, and its crash-loop back-off (consecutive failed starts or crashes, and
 * how long new starts still wait; 0 when they do not).
 */
public record PoolStatus(
    int waiting, int inFlight, boolean drained, int failures, long backoffRemainingNanos) {}
