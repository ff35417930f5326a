package dev.locallambdas.cache;

/**
 * The primary cache key: function, path and raw query (null when absent). GET and HEAD share it.
 */
record Key(String functionId, String path, String query) {}
