package dev.locallambdas.sdk;

import java.nio.ByteBuffer;

/**
 * One frame of the pipe protocol (docs/protocol.md section 2; CREDIT from section 7) and its
 * constants.
 */
@SuppressWarnings("ArrayRecordComponent") // a frame owns its payload; never compared or hashed
record Frame(int type, int flags, int stream, byte[] payload) {

  static final int HEADER_SIZE = 10;
  static final int MAX_PAYLOAD = 1 << 20;

  /** The largest body chunk this SDK sends, as the spec recommends. */
  static final int CHUNK = 64 * 1024;

  static final int END_STREAM = 0x01;

  /** The bounds of a flow-control window (version 2): WELCOME's least, and 2^31-1. */
  static final long MIN_WINDOW = 1 << 16;

  static final long MAX_WINDOW = Integer.MAX_VALUE;

  static final int HELLO = 0x01;
  static final int WELCOME = 0x02;
  static final int REQUEST_HEAD = 0x10;
  static final int REQUEST_BODY = 0x11;
  static final int RESPONSE_HEAD = 0x20;
  static final int RESPONSE_BODY = 0x21;
  static final int RESET = 0x30;
  static final int CREDIT = 0x31;

  /** Shared-memory bodies (section 8), only after WELCOME accepted {@link #CAP_SHM}. */
  static final int SHM_ATTACH = 0x40;

  static final int SHM_BODY = 0x41;
  static final int SHM_RELEASE = 0x42;
  static final long CAP_SHM = 0x1;

  boolean endStream() {
    return (flags & END_STREAM) != 0;
  }

  /**
   * Whether the type exists in the protocol version (CREDIT only from version 2) and, for the
   * shared-memory frames, on this connection.
   */
  static boolean isKnownType(int type, int version, boolean shm) {
    switch (type) {
      case SHM_BODY:
      case SHM_RELEASE:
        return shm;
      case CREDIT:
        return version >= 2;
      case HELLO:
      case WELCOME:
      case REQUEST_HEAD:
      case REQUEST_BODY:
      case RESPONSE_HEAD:
      case RESPONSE_BODY:
      case RESET:
        return true;
      default:
        return false;
    }
  }

  /** The 10-byte header of a frame with {@code length} payload bytes, ready to be written. */
  static ByteBuffer header(int type, int flags, int stream, int length) {
    ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE);
    header.putInt(length).put((byte) type).put((byte) flags).putInt(stream).flip();
    return header;
  }

  static String hex(int value) {
    return "0x" + Integer.toHexString(value);
  }
}
