package dev.locallambdas.cache;

import java.util.concurrent.CompletableFuture;

/**
 * A cache miss being fetched from the function. {@code landed} completes with the stored response,
 * or with null when nothing was stored (not cacheable, failed, abandoned).
 */
final class Flight {
  final CompletableFuture<StoredResponse> landed = new CompletableFuture<>();
}
