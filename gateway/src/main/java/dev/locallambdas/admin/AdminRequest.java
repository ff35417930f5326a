package dev.locallambdas.admin;

import java.net.InetAddress;

/**
 * One request to the admin API, as far as it matters here: method, canonical path, raw query (null
 * when absent), the Host the client named, the peer address, and the request fields that shape the
 * answer (Accept) or guard state changes (Origin, Sec-Fetch-Site; null when absent).
 */
public record AdminRequest(
    String method,
    String path,
    String query,
    String host,
    InetAddress peer,
    String accept,
    String origin,
    String fetchSite) {}
