package dev.locallambdas.transport.lambda;

import dev.locallambdas.exchange.Headers;

/** The HTTP response a handler's result maps to: no framing or hop-by-hop fields. */
@SuppressWarnings("ArrayRecordComponent") // a body handed on once, never compared
public record HttpAnswer(int status, Headers headers, byte[] body) {}
