package dev.locallambdas.transport.lambda;

import dev.locallambdas.exchange.Headers;

/** The HTTP response a handler's result maps to: no framing or hop-by-hop fields. */
public record HttpAnswer(int status, Headers headers, byte[] body) {}
