package dev.locallambdas.transport.http;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.HttpSyntax;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A child's response head checked the way the old parser checked it (field grammar, framing fields
 * that cannot be misread) and reduced to what the front door gets: the status, the end-to-end
 * fields, the body length to announce, and whether the connection may carry another request.
 *
 * @param contentLength the body length when known, -1 otherwise; for a HEAD request the length the
 *     child declared (the front door announces it), -1 when it declared none
 */
record ResponseHead(int status, Headers headers, long contentLength, boolean keepAlive) {
  private static final int MAX_LENGTH_DIGITS = 18;

  /** Checks a decoded final (2xx-5xx) response; throws a {@link ResponseDecoder.Violation}. */
  static ResponseHead of(HttpResponse response, boolean headRequest) {
    int status = response.status().code();
    boolean http10 = HttpVersion.HTTP_1_0.equals(response.protocolVersion());
    HttpHeaders fields = response.headers();
    List<String> codings = null;
    List<String> connectionOptions = null;
    long length = -1;
    boolean lengthSeen = false;
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = fields.iteratorCharSequence();
        it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> field = it.next();
      String name = field.getKey().toString();
      String value = field.getValue().toString();
      if (!HttpSyntax.isToken(name)) {
        throw new ResponseDecoder.Violation(
            "sent a header with an invalid name '" + HttpSyntax.printable(name) + "'");
      }
      if (!HttpSyntax.isValidValue(value)) {
        throw new ResponseDecoder.Violation(
            "sent header '" + name + "' with a control character in its value");
      }
      if (AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.CONTENT_LENGTH)) {
        // The decoder let through one field (it refuses several, and lists in one field).
        if (lengthSeen) {
          throw new ResponseDecoder.Violation("sent more than one Content-Length");
        }
        length = parseLength(value);
        lengthSeen = true;
      } else if (AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TRANSFER_ENCODING)) {
        codings = addParts(codings, value);
      } else if (AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.CONNECTION)) {
        connectionOptions = addParts(connectionOptions, value);
      }
    }
    if (codings != null) {
      // Netty reads "gzip, chunked" as chunked and a lone "gzip" until close; the gateway would
      // forward neither faithfully, so both are refused, as is any coding on HTTP/1.0.
      if (http10 || codings.size() != 1 || !codings.get(0).equalsIgnoreCase("chunked")) {
        throw new ResponseDecoder.Violation(
            "sent Transfer-Encoding '"
                + String.join(", ", codings)
                + "'; only chunked is supported");
      }
      if (lengthSeen) {
        throw new ResponseDecoder.Violation("sent both Transfer-Encoding and Content-Length");
      }
    }
    boolean keepAlive =
        http10 ? has(connectionOptions, "keep-alive") : !has(connectionOptions, "close");
    long announced;
    if (headRequest) {
      announced = length;
    } else if (status == 204 || status == 304) {
      announced = 0;
    } else if (codings != null) {
      announced = -1;
    } else if (lengthSeen) {
      announced = length;
    } else {
      announced = -1; // the body ends when the child closes the connection
      keepAlive = false;
    }
    return new ResponseHead(status, endToEnd(fields, connectionOptions), announced, keepAlive);
  }

  /** Trailers are not forwarded, but checked like a head: a child sending garbage is broken. */
  static void checkTrailers(HttpHeaders trailers) {
    if (trailers.isEmpty()) {
      return;
    }
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = trailers.iteratorCharSequence();
        it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> field = it.next();
      String name = field.getKey().toString();
      if (!HttpSyntax.isToken(name)) {
        throw new ResponseDecoder.Violation(
            "sent a trailer field with an invalid name '" + HttpSyntax.printable(name) + "'");
      }
      if (!HttpSyntax.isValidValue(field.getValue().toString())) {
        throw new ResponseDecoder.Violation(
            "sent trailer field '" + name + "' with a control character in its value");
      }
    }
  }

  /**
   * The fields a proxy forwards, as {@link HttpSyntax#endToEnd} defines them, built in one pass
   * from Netty's headers.
   */
  private static Headers endToEnd(HttpHeaders fields, List<String> connectionOptions) {
    Headers.Builder out = Headers.builder();
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = fields.iteratorCharSequence();
        it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> field = it.next();
      String name = field.getKey().toString().toLowerCase(Locale.ROOT);
      if (!HttpSyntax.isHopByHop(name) && !has(connectionOptions, name)) {
        out.add(name, field.getValue().toString());
      }
    }
    return out.build();
  }

  private static long parseLength(String value) {
    if (value.isEmpty() || value.length() > MAX_LENGTH_DIGITS) {
      throw invalidLength(value);
    }
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) < '0' || value.charAt(i) > '9') {
        throw invalidLength(value);
      }
    }
    return Long.parseLong(value);
  }

  private static ResponseDecoder.Violation invalidLength(String value) {
    return new ResponseDecoder.Violation(
        "sent an invalid Content-Length '" + HttpSyntax.printable(value) + "'");
  }

  private static List<String> addParts(List<String> list, String value) {
    List<String> out = list == null ? new ArrayList<>(2) : list;
    for (String part : value.split(",", -1)) {
      String p = part.strip();
      if (!p.isEmpty()) {
        out.add(p);
      }
    }
    return out;
  }

  private static boolean has(List<String> options, String option) {
    if (options != null) {
      for (String o : options) {
        if (o.equalsIgnoreCase(option)) {
          return true;
        }
      }
    }
    return false;
  }
}
