package dev.locallambdas.transport.pipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The slot state machine of protocol section 8.4, alone. */
class SlotsTest {
  private final Slots slots = new Slots(2, 2, 64 * 1024);

  @Test
  void aGatewaySlotGoesFreeFillingSentAndBackWithTheNextGeneration() throws Exception {
    int slot = slots.acquire();
    assertThat(slot).isZero();
    assertThat(slots.state(0)).isEqualTo(Slots.State.FILLING);
    assertThat(slots.send(0)).isZero();
    assertThat(slots.state(0)).isEqualTo(Slots.State.SENT);
    slots.released(0, 0);
    assertThat(slots.state(0)).isEqualTo(Slots.State.FREE);
    assertThat(slots.generation(0)).isEqualTo(1);
    assertThat(slots.acquire()).isZero();
    assertThat(slots.send(0)).isEqualTo(1);
  }

  @Test
  void acquireGivesEachFreeSlotOnceThenNone() {
    assertThat(slots.acquire()).isZero();
    assertThat(slots.acquire()).isEqualTo(1);
    assertThat(slots.acquire()).isEqualTo(-1);
    slots.abandon(1);
    assertThat(slots.acquire()).isEqualTo(1);
  }

  @Test
  void aReleaseOfAnotherGenerationIsAProtocolError() {
    slots.acquire();
    slots.send(0);
    assertThatThrownBy(() -> slots.released(0, 1))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining("generation 1")
        .hasMessageContaining("at generation 0");
    assertThat(slots.state(0)).isEqualTo(Slots.State.SENT);
  }

  @Test
  void aReleaseOfASlotNotSentIsAProtocolError() {
    assertThatThrownBy(() -> slots.released(0, 0))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining("while it is FREE");
    slots.acquire();
    assertThatThrownBy(() -> slots.released(0, 0)).hasMessageContaining("while it is FILLING");
  }

  @Test
  void aReleaseOfTheChildsOwnSlotIsAProtocolError() {
    assertThatThrownBy(() -> slots.released(2, 0))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining("not one of the gateway's 0..1");
  }

  @Test
  void aChildSlotGoesIdleHeldAndBackWithTheNextGeneration() throws Exception {
    slots.arrived(3, 0, 100);
    assertThat(slots.state(3)).isEqualTo(Slots.State.HELD);
    assertThat(slots.release(3)).isZero();
    assertThat(slots.state(3)).isEqualTo(Slots.State.IDLE);
    slots.arrived(3, 1, 64 * 1024);
    assertThat(slots.release(3)).isEqualTo(1);
  }

  @Test
  void aDoorbellForAHeldSlotIsAProtocolError() throws Exception {
    slots.arrived(2, 0, 1);
    assertThatThrownBy(() -> slots.arrived(2, 0, 1))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining("while it is HELD");
  }

  @Test
  void aDoorbellWithAStaleGenerationIsAProtocolError() throws Exception {
    slots.arrived(2, 0, 1);
    slots.release(2);
    assertThatThrownBy(() -> slots.arrived(2, 0, 1))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining("names generation 0, the slot is at generation 1");
  }

  @Test
  void aDoorbellOutsideTheChildsSlotsOrTheSlotSizeIsAProtocolError() {
    assertThatThrownBy(() -> slots.arrived(0, 0, 1)).hasMessageContaining("not one of the child's");
    assertThatThrownBy(() -> slots.arrived(4, 0, 1)).hasMessageContaining("not one of the child's");
    assertThatThrownBy(() -> slots.arrived(2, 0, 0)).hasMessageContaining("outside 1..65536");
    assertThatThrownBy(() -> slots.arrived(2, 0, 64 * 1024 + 1))
        .hasMessageContaining("outside 1..65536");
    assertThat(slots.state(2)).isEqualTo(Slots.State.IDLE);
  }

  @Test
  void generationsWrapAroundAtTwoToTheThirtySecond() throws Exception {
    Slots one = new Slots(1, 1, 64 * 1024);
    for (long g = 0; g < 3; g++) {
      one.arrived(1, g, 1);
      one.release(1);
    }
    assertThat(one.generation(1)).isEqualTo(3);
  }

  @Test
  void theGatewayMisusingItsOwnSlotsIsABugNotAProtocolError() {
    assertThatThrownBy(() -> slots.send(0)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> slots.abandon(0)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> slots.release(2)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void slotFramesRoundTripAndRefuseBadShapes() throws Exception {
    ByteBuffer out = ByteBuffer.allocate(64);
    FrameCodec.putShmBody(out, 7, true, 3, 0xFFFF_FFFFL, 1 << 20);
    out.flip();
    Frame f = FrameCodec.decode(out);
    assertThat(f.type()).isEqualTo(FrameCodec.SHM_BODY);
    assertThat(f.endStream()).isTrue();
    assertThat(FrameCodec.decodeSlotRef(f.payload().nioBuffer(), true))
        .isEqualTo(new FrameCodec.SlotRef(3, 0xFFFF_FFFFL, 1 << 20));
    out.clear();
    FrameCodec.putShmRelease(out, 5, 9);
    out.flip();
    f = FrameCodec.decode(out);
    assertThat(f.stream()).isZero();
    assertThat(FrameCodec.decodeSlotRef(f.payload().nioBuffer(), false))
        .isEqualTo(new FrameCodec.SlotRef(5, 9, 0));
    assertThatThrownBy(() -> FrameCodec.decodeSlotRef(ByteBuffer.allocate(11), true))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining("payload of 11 bytes, not 12");
    ByteBuffer nonZero =
        ByteBuffer.allocate(8).putShort((short) 1).putShort((short) 1).putInt(0).flip();
    assertThatThrownBy(() -> FrameCodec.decodeSlotRef(nonZero, false))
        .hasMessageContaining("zero field");
    assertThatThrownBy(() -> FrameCodec.checkHeader(12, FrameCodec.SHM_BODY, 0, 0))
        .hasMessageContaining("SHM_BODY on stream 0");
    assertThatThrownBy(() -> FrameCodec.checkHeader(8, FrameCodec.SHM_RELEASE, 0, 3))
        .hasMessageContaining("not 0");
  }
}
