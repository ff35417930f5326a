package dev.locallambdas.frontdoor;

import dev.locallambdas.admin.AdminApi;
import dev.locallambdas.admin.AdminRequest;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Problem;
import dev.locallambdas.routing.RequestTarget;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetAddress;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A request to the admin API. Its answer may take a while (stopping instances), so it is computed
 * on a virtual thread and written back on the connection's loop. Its body, if any, is ignored.
 */
final class AdminExchange implements ConnectionHandler.Exchange {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.frontdoor");

  private final AdminApi admin;
  private final EventLoop loop;
  private final Responder responder;

  AdminExchange(AdminApi admin, EventLoop loop, Responder responder) {
    this.admin = admin;
    this.loop = loop;
    this.responder = responder;
  }

  void start(HttpRequest req, RequestTarget target, String host, InetAddress peer) {
    HttpHeaders h = req.headers();
    AdminRequest request =
        new AdminRequest(
            req.method().name(),
            target.path(),
            target.query(),
            host,
            peer,
            h.get(HttpHeaderNames.ACCEPT),
            h.get(HttpHeaderNames.ORIGIN),
            h.get("sec-fetch-site"));
    Thread.ofVirtual()
        .name("admin")
        .start(
            () -> {
              Runnable write;
              try {
                AdminApi.Answer a = admin.handle(request);
                Headers headers =
                    Headers.builder()
                        .add("content-type", a.contentType())
                        .add("cache-control", "no-store")
                        .build();
                ByteBuf body = Unpooled.wrappedBuffer(a.body());
                write = () -> responder.full(HttpResponseStatus.valueOf(a.status()), headers, body);
              } catch (Problem p) {
                write = () -> responder.problem(p, target.path(), false);
              } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, "admin request failed: " + target.path(), e);
                Problem p =
                    Problem.of(500, "internal-error", "Internal Server Error")
                        .detail("the admin request failed: " + e)
                        .build();
                write = () -> responder.problem(p, target.path(), true);
              }
              loop.execute(write);
            });
  }

  @Override
  public void content(ByteBuf content, boolean last) {
    content.release();
  }

  @Override
  public void malformed(String why) {
    responder.closeAfter();
  }

  @Override
  public void clientGone() {}
}
