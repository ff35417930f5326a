package dev.locallambdas.exchange;

import java.nio.ByteBuffer;

final class Bodies {
  private Bodies() {}

  static final BodySource EMPTY =
      new BodySource() {
        @Override
        public long length() {
          return 0;
        }

        @Override
        public ByteBuffer next() {
          return null;
        }
      };

  static final class InMemory implements BodySource {
    private final byte[] bytes;
    private boolean read;

    InMemory(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public long length() {
      return bytes.length;
    }

    @Override
    public ByteBuffer next() {
      if (read) {
        return null;
      }
      read = true;
      return ByteBuffer.wrap(bytes);
    }
  }
}
