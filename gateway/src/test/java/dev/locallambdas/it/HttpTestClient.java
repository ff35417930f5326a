package dev.locallambdas.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A plain HTTP/1.1 client for tests (the JDK's), pointed at one gateway. */
final class HttpTestClient {
  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final String base;
  private final int port;

  HttpTestClient(InetSocketAddress address) {
    this.port = address.getPort();
    this.base = "http://127.0.0.1:" + address.getPort();
  }

  HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
    return client.send(
        HttpRequest.newBuilder(URI.create(base + pathAndQuery))
            .timeout(Duration.ofSeconds(30))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<byte[]> getBytes(String pathAndQuery) throws IOException, InterruptedException {
    return client.send(
        HttpRequest.newBuilder(URI.create(base + pathAndQuery))
            .timeout(Duration.ofSeconds(60))
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  /**
   * POSTs a body while reading the response at the same time, as curl does (the JDK client reads
   * only after sending everything, which no streaming proxy can serve for an echo larger than the
   * buffers in between). Returns the decoded response body; fails on a non-200 status.
   */
  byte[] postStreaming(String path, byte[] body) throws Exception {
    try (java.net.Socket socket = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(60_000);
      Thread writer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      var out = socket.getOutputStream();
                      out.write(
                          ("POST "
                                  + path
                                  + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
                                  + body.length
                                  + "\r\nConnection: close\r\n\r\n")
                              .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                      for (int off = 0; off < body.length; off += 65536) {
                        out.write(body, off, Math.min(65536, body.length - off));
                      }
                      out.flush();
                    } catch (IOException e) {
                      throw new java.io.UncheckedIOException(e);
                    }
                  });
      var in =
          new java.io.DataInputStream(new java.io.BufferedInputStream(socket.getInputStream()));
      String status = line(in);
      if (!status.startsWith("HTTP/1.1 200")) {
        throw new IOException("unexpected status: " + status);
      }
      long length = -1;
      boolean chunked = false;
      for (String h = line(in); !h.isEmpty(); h = line(in)) {
        String lower = h.toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("content-length:")) {
          length = Long.parseLong(h.substring(15).trim());
        } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
          chunked = true;
        }
      }
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      if (chunked) {
        for (int size = Integer.parseInt(line(in).trim(), 16);
            size > 0;
            size = Integer.parseInt(line(in).trim(), 16)) {
          out.write(in.readNBytes(size));
          line(in);
        }
        line(in);
      } else if (length >= 0) {
        out.write(in.readNBytes((int) length));
      } else {
        in.transferTo(out);
      }
      writer.join();
      return out.toByteArray();
    }
  }

  private static String line(java.io.DataInputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) != -1 && c != '\n') {
      if (c != '\r') {
        sb.append((char) c);
      }
    }
    return sb.toString();
  }

  HttpResponse<byte[]> post(String pathAndQuery, byte[] body)
      throws IOException, InterruptedException {
    return client.send(
        HttpRequest.newBuilder(URI.create(base + pathAndQuery))
            .timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }
}
