package dev.locallambdas.frontdoor;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.Locale;

/**
 * {@code Upgrade: h2c} on a cleartext HTTP/1.1 connection (RFC 7540 section 3.2; RFC 9113
 * deprecates it but curl --http2 still sends it): the request is answered over HTTP/2 as stream 1
 * after a 101. The upgrade handler is put in the pipeline only for such a request, so the HTTP/1.1
 * path does not pay for it. Only a request without a body is upgraded (a body would have to be held
 * whole before the switch); any other keeps being served over HTTP/1.1, which RFC 7540 allows.
 */
final class H2cUpgrade {
  private static final AsciiString H2C = AsciiString.of(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME);

  private H2cUpgrade() {}

  /** Netty's pieces for the upgrade: what to remove, and the HTTP/2 handlers to add. */
  interface Target {
    /** Removes the HTTP/1.1 handlers (the upgrade handler stays until the switch is done). */
    void removeHttp1(ChannelPipeline pipeline);

    Http2FrameCodec codec();

    /** Adds the HTTP/2 handlers after the codec (the stream multiplexer and so on). */
    io.netty.channel.ChannelHandler[] afterCodec(Http2FrameCodec codec);
  }

  /**
   * True for an HTTP/1.1 request asking for h2c with one HTTP2-Settings field, no body, and no
   * other request of the connection waiting.
   */
  static boolean wanted(HttpRequest req, boolean nothingWaiting) {
    HttpHeaders h = req.headers();
    String upgrade = h.get(HttpHeaderNames.UPGRADE);
    if (upgrade == null
        || !nothingWaiting
        || req.decoderResult().isFailure()
        || !req.protocolVersion().equals(HttpVersion.HTTP_1_1)
        || !tokens(upgrade).contains("h2c")
        || h.getAll(Http2CodecUtil.HTTP_UPGRADE_SETTINGS_HEADER).size() != 1
        || h.contains(HttpHeaderNames.CONTENT_LENGTH)
            && !"0".equals(h.get(HttpHeaderNames.CONTENT_LENGTH))
        || h.contains(HttpHeaderNames.TRANSFER_ENCODING)
        || !AbsoluteForm.validHost(String.valueOf(h.get(HttpHeaderNames.HOST)))) {
      return false;
    }
    try {
      java.net.URI.create(req.uri()); // Netty's conversion parses the target
    } catch (IllegalArgumentException e) {
      return false;
    }
    List<String> connection = tokens(String.join(",", h.getAll(HttpHeaderNames.CONNECTION)));
    return connection.contains("upgrade") && connection.contains("http2-settings");
  }

  private static List<String> tokens(String list) {
    return java.util.Arrays.stream(list.split(","))
        .map(t -> t.strip().toLowerCase(Locale.ROOT))
        .filter(t -> !t.isEmpty())
        .toList();
  }

  /**
   * Puts Netty's upgrade handler before the connection handler and gives it {@code req}; the
   * request's (empty) last content follows it there, and the handler answers 101, swaps the
   * handlers and hands the request to the HTTP/2 codec as stream 1.
   */
  static void start(ChannelHandlerContext gateway, HttpRequest req, Target target) {
    ChannelPipeline p = gateway.pipeline();
    HttpServerUpgradeHandler.SourceCodec source = ctx -> target.removeHttp1(ctx.pipeline());
    HttpServerUpgradeHandler.UpgradeCodecFactory factory =
        protocol -> {
          if (!H2C.contentEqualsIgnoreCase(protocol)) {
            return null;
          }
          Http2FrameCodec codec = target.codec();
          return new Http2ServerUpgradeCodec(codec, target.afterCodec(codec));
        };
    // Netty's conversion keeps the authority of an absolute-form target only (Host is not an
    // HTTP/2 field): stream 1 must arrive with the Host the client sent.
    String host = req.headers().get(HttpHeaderNames.HOST);
    if (host != null && req.uri().startsWith("/")) {
      req.setUri("http://" + host + req.uri());
    }
    HttpServerUpgradeHandler upgrade = new HttpServerUpgradeHandler(source, factory, 0);
    p.addBefore(gateway.name(), "h2c-upgrade", upgrade);
    try {
      upgrade.channelRead(p.context(upgrade), req); // its last content follows it there
    } catch (Exception e) {
      gateway.fireExceptionCaught(e);
    }
  }
}
