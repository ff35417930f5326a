package dev.locallambdas.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reports a leaked buffer: every buffer is tracked (paranoid level)
 * while the class runs, and at its end the collector is asked to find the ones nobody released.
 * Best effort by nature (a leak is seen only once its buffer is collected), so the whole suite is
 * also run with -Dio.netty.leakDetection.level=paranoid now and then.
 */
final class NoBufferLeaks implements BeforeAllCallback, AfterAllCallback {
  // Netty logs through java.util.logging here (no SLF4J on the test class path).
  private static final Logger DETECTOR = Logger.getLogger(ResourceLeakDetector.class.getName());

  private final List<String> leaks = new CopyOnWriteArrayList<>();
  private final Handler handler =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          if (record.getMessage() != null && record.getMessage().contains("LEAK")) {
            leaks.add(record.getMessage());
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };
  private ResourceLeakDetector.Level before;

  @Override
  public void beforeAll(ExtensionContext context) {
    before = ResourceLeakDetector.getLevel();
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    DETECTOR.addHandler(handler);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    try {
      for (int i = 0; i < 10; i++) {
        System.gc();
        // A tracked allocation makes the detector look at what the collector found.
        ByteBuf probe = PooledByteBufAllocator.DEFAULT.directBuffer(1);
        probe.release();
      }
      assertThat(leaks).as("buffers leaked").isEmpty();
    } finally {
      DETECTOR.removeHandler(handler);
      ResourceLeakDetector.setLevel(before);
    }
  }
}
