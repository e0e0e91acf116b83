package org.popsolutions.spanker.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.card.Combine;
import org.popsolutions.spanker.api.card.LinkPort;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.OpCode;
import org.popsolutions.spanker.api.plan.HostLinkTraffic;
import org.popsolutions.spanker.api.card.PortStatus;
import org.popsolutions.spanker.api.card.PortTraffic;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.topology.LinkState;

class WireTest {
    private static Frame roundTrip(Frame frame) throws Exception {
        return Wire.read(new ByteArrayInputStream(Wire.encode(frame)));
    }

    private static MalformedFrameException malformed(byte[] bytes) {
        return assertThrows(MalformedFrameException.class, () -> Wire.read(new ByteArrayInputStream(bytes)));
    }

    @Test
    void aWriteFrameInOnePieceIsTheSameFrameAsAWriteMessage() throws Exception {
        byte[] data = new byte[3000];
        new Random(7).nextBytes(data);
        ByteBuffer source = ByteBuffer.allocateDirect(4000);
        source.put(500, data);
        java.io.ByteArrayOutputStream onePiece = new java.io.ByteArrayOutputStream();
        Wire.writeWrite(onePiece, 77, 5, 1024, source, 500, data.length);
        byte[] expected = Wire.encode(Frame.of(MessageType.WRITE, 77, Messages.Write.encode(5, 1024,
                ByteBuffer.wrap(data), 0, data.length)));
        assertArrayEquals(expected, onePiece.toByteArray());
        Frame f = Wire.read(new ByteArrayInputStream(onePiece.toByteArray()));
        Messages.Write w = Messages.Write.decode(f.payload());
        assertEquals(5, w.handle());
        assertEquals(1024, w.offset());
        assertArrayEquals(data, w.bytes());
    }

    /** Three frames: a WRITE of {@code big} (id 5, handle 7, offset 11), a MEMORY (id 6), a WRITE of {@code small}. */
    private static byte[] bigMemorySmall(byte[] big, byte[] memoryPayload, byte[] small) throws Exception {
        java.io.ByteArrayOutputStream stream = new java.io.ByteArrayOutputStream();
        FrameWriter writer = new FrameWriter(stream);
        writer.writeWrite(5, 7, 11, ByteBuffer.wrap(big), 0, big.length, false);
        writer.write(Frame.of(MessageType.MEMORY, 6, memoryPayload), false);
        writer.writeWrite(8, 7, 13, ByteBuffer.wrap(small), 0, small.length, true);
        return stream.toByteArray();
    }

    @Test
    void aFrameReaderKeepsOneStagingBufferForWritesAndChecksEachCrcBeforeHandingTheDataOut() throws Exception {
        byte[] big = new byte[Wire.MAX_CHUNK_BYTES];
        new Random(8).nextBytes(big);
        byte[] small = {1, 2, 3};
        byte[] bytes = bigMemorySmall(big, new byte[0], small);
        FrameReader reader = new FrameReader(new ByteArrayInputStream(bytes));
        assertEquals(MessageType.WRITE, reader.next());
        Messages.Write first = reader.write();
        assertEquals(5, reader.requestId());
        assertEquals(11, first.offset());
        assertArrayEquals(big, first.bytes());
        assertEquals(MessageType.MEMORY, reader.next());
        assertEquals(6, reader.frame().requestId());
        assertThrows(IllegalStateException.class, reader::write);
        assertEquals(MessageType.WRITE, reader.next());
        Messages.Write second = reader.write();
        assertEquals(13, second.offset());
        assertArrayEquals(small, second.bytes(), "a shorter WRITE after a longer one carries only its own bytes");
        assertTrue(second.data() == first.data(), "both chunks were staged in the same buffer");
        assertArrayEquals(Messages.Write.decode(Wire.read(new ByteArrayInputStream(Arrays.copyOfRange(bytes,
                bytes.length - (Wire.HEADER_BYTES + Messages.Write.FIELD_BYTES + 3 + Wire.CRC_BYTES),
                bytes.length))).payload()).bytes(), small);
        // a flipped data bit: refused before any data is handed out, and the reader holds no frame
        byte[] corrupt = Arrays.copyOf(bytes, Wire.HEADER_BYTES + Messages.Write.FIELD_BYTES + big.length
                + Wire.CRC_BYTES);
        corrupt[Wire.HEADER_BYTES + Messages.Write.FIELD_BYTES + 100] ^= 4;
        FrameReader refusing = new FrameReader(new ByteArrayInputStream(corrupt));
        MalformedFrameException e = assertThrows(MalformedFrameException.class, refusing::next);
        assertTrue(e.getMessage().contains("CRC32C mismatch on WRITE"), e.getMessage());
        assertThrows(IllegalStateException.class, refusing::write);
    }

    /** A stream that hands out at most a few random bytes per read, as a socket may, to split frames anywhere. */
    private static InputStream trickling(byte[] bytes, long seed, int most) {
        Random random = new Random(seed);
        return new ByteArrayInputStream(bytes) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1 + random.nextInt(most)));
            }
        };
    }

    @Test
    void aChannelReaderReadsWritesIntoADirectStagingBufferAcrossAnySplitAndChecksEachCrcFirst() throws Exception {
        byte[] big = new byte[Wire.MAX_CHUNK_BYTES];
        new Random(9).nextBytes(big);
        byte[] small = {1, 2, 3};
        byte[] bytes = bigMemorySmall(big, new byte[] {42}, small);
        for (int most : new int[] {7, 70_000, 1 << 21}) {
            FrameReader reader = new FrameReader(java.nio.channels.Channels.newChannel(trickling(bytes, most, most)));
            reader.awaitFirstByte();
            assertTrue(reader.buffered() > 0);
            assertEquals(MessageType.WRITE, reader.next());
            Messages.WriteChunk first = reader.writeChunk();
            assertEquals(7, first.handle());
            assertEquals(11, first.offset());
            assertTrue(first.data().isDirect() && first.data().isReadOnly());
            byte[] got = new byte[first.length()];
            first.data().get(0, got);
            assertArrayEquals(big, got, "pieces of at most " + most + " bytes");
            assertArrayEquals(big, reader.write().bytes());
            assertEquals(MessageType.MEMORY, reader.next());
            assertArrayEquals(new byte[] {42}, reader.frame().payload());
            assertThrows(IllegalStateException.class, reader::writeChunk);
            assertEquals(MessageType.WRITE, reader.next());
            Messages.WriteChunk second = reader.writeChunk();
            assertEquals(3, second.length(), "a shorter WRITE after a longer one carries only its own bytes");
            assertEquals(2, second.data().get(1));
            assertThrows(EOFException.class, reader::next);
        }
        byte[] corrupt = Arrays.copyOf(bytes, Wire.HEADER_BYTES + Messages.Write.FIELD_BYTES + big.length
                + Wire.CRC_BYTES);
        corrupt[Wire.HEADER_BYTES + Messages.Write.FIELD_BYTES + 300_000] ^= 4;
        FrameReader refusing = new FrameReader(java.nio.channels.Channels.newChannel(trickling(corrupt, 1, 1 << 17)));
        MalformedFrameException e = assertThrows(MalformedFrameException.class, refusing::next);
        assertTrue(e.getMessage().contains("CRC32C mismatch on WRITE"), e.getMessage());
        assertThrows(IllegalStateException.class, refusing::writeChunk);
        FrameReader cut = new FrameReader(java.nio.channels.Channels.newChannel(new ByteArrayInputStream(
                Arrays.copyOf(bytes, 1000))));
        MalformedFrameException c = assertThrows(MalformedFrameException.class, cut::next);
        assertTrue(c.getMessage().contains("closed inside a frame's payload"), c.getMessage());
    }

    @Test
    void aWriteSentThroughAChannelIsTheSameFrameAsOneSentThroughTheStream() throws Exception {
        ByteBuffer direct = ByteBuffer.allocateDirect(4096);
        for (int i = 0; i < 4096; i++) {
            direct.put(i, (byte) (i * 31));
        }
        java.io.ByteArrayOutputStream viaStream = new java.io.ByteArrayOutputStream();
        new FrameWriter(viaStream).writeWrite(9, 3, 40, direct, 100, 3000, true);
        java.io.ByteArrayOutputStream viaChannel = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream small = new java.io.ByteArrayOutputStream();
        java.nio.channels.WritableByteChannel sink = java.nio.channels.Channels.newChannel(viaChannel);
        java.nio.channels.GatheringByteChannel gathering = new java.nio.channels.GatheringByteChannel() {
            @Override
            public long write(ByteBuffer[] srcs, int offset, int length) throws java.io.IOException {
                long n = 0;
                for (int i = offset; i < offset + length; i++) {
                    int before = srcs[i].remaining();
                    // at most 1000 bytes per call: the writer must go on until the whole frame is out
                    ByteBuffer part = srcs[i].slice(srcs[i].position(), Math.min(1000, before));
                    sink.write(part);
                    srcs[i].position(srcs[i].position() + part.position());
                    n += part.position();
                    if (n >= 1000) {
                        break;
                    }
                }
                return n;
            }

            @Override
            public long write(ByteBuffer[] srcs) throws java.io.IOException {
                return write(srcs, 0, srcs.length);
            }

            @Override
            public int write(ByteBuffer src) throws java.io.IOException {
                return sink.write(src);
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        FrameWriter channelWriter = new FrameWriter(small, gathering);
        channelWriter.write(Frame.of(MessageType.MEMORY, 8, new byte[0]), false);
        channelWriter.writeWrite(9, 3, 40, direct, 100, 3000, true);
        byte[] memory = Wire.encode(Frame.of(MessageType.MEMORY, 8, new byte[0]));
        assertArrayEquals(memory, small.toByteArray(), "the frame before the WRITE was flushed ahead of it");
        assertArrayEquals(viaStream.toByteArray(), viaChannel.toByteArray());
        assertEquals(0, direct.position(), "the source is left as it was");
        // several 128 KiB pieces (the last one short), from a heap and a direct source, and an empty WRITE
        byte[] large = new byte[300_001];
        new Random(5).nextBytes(large);
        ByteBuffer largeDirect = ByteBuffer.allocateDirect(large.length).put(large).clear();
        for (ByteBuffer source : List.of(ByteBuffer.wrap(large), largeDirect)) {
            for (int length : new int[] {large.length - 7, 0}) {
                java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
                new FrameWriter(expected).writeWrite(10, 4, 50, source, 7, length, true);
                viaChannel.reset();
                channelWriter.writeWrite(10, 4, 50, source, 7, length, true);
                assertArrayEquals(expected.toByteArray(), viaChannel.toByteArray(), length + " bytes from a "
                        + (source.isDirect() ? "direct" : "heap") + " source");
            }
        }
    }

    @Test
    void aProgramEpochRoundTripsAndItsPayloadIsChecked() throws Exception {
        assertEquals(new Messages.ProgramEpoch(42), Messages.ProgramEpoch.decode(new Messages.ProgramEpoch(42)
                .encode()));
        assertThrows(MalformedFrameException.class, () -> Messages.ProgramEpoch.decode(new byte[7]));
        assertEquals(MessageType.PROGRAM_EPOCH, MessageType.fromCode(0x22));
    }

    @Test
    void frameRoundTripKeepsEveryHeaderFieldAndThePayload() throws Exception {
        byte[] payload = {1, 2, 3, (byte) 0xFF};
        Frame back = roundTrip(new Frame(1, 7, MessageType.WRITE, 0xFFFF_FFFEL, payload));
        assertEquals(1, back.major());
        assertEquals(7, back.minor());
        assertEquals(MessageType.WRITE, back.type());
        assertEquals(0xFFFF_FFFEL, back.requestId());
        assertArrayEquals(payload, back.payload());
    }

    @Test
    void headerIsLittleEndianWithMagicSailFirst() {
        byte[] bytes = Wire.encode(Frame.of(MessageType.OK, 0x01020304, new byte[0]));
        assertEquals('S', bytes[0]);
        assertEquals('A', bytes[1]);
        assertEquals('I', bytes[2]);
        assertEquals('L', bytes[3]);
        assertEquals(0x04, bytes[8]);
        assertEquals(0x01, bytes[11]);
        assertEquals(Wire.HEADER_BYTES + Wire.CRC_BYTES, bytes.length);
    }

    @Test
    void cleanEndOfStreamBeforeAFrameIsEofNotMalformed() {
        assertThrows(EOFException.class, () -> Wire.read(new ByteArrayInputStream(new byte[0])));
    }

    @Test
    void badMagicIsRefused() {
        byte[] bytes = Wire.encode(Frame.of(MessageType.OK, 1, new byte[0]));
        bytes[0] = 'X';
        assertTrue(malformed(bytes).getMessage().contains("magic"));
    }

    @Test
    void statedLengthOverTheLimitIsRefusedBeforeAnythingIsAllocated() {
        byte[] header = Arrays.copyOf(Wire.encode(Frame.of(MessageType.WRITE, 1, new byte[0])), Wire.HEADER_BYTES);
        ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).putInt(12, -1); // 4 GiB - 1
        // A stream that would hand out bytes forever: the reader must stop at the header.
        InputStream endless = new InputStream() {
            int at;

            @Override
            public int read() {
                return at < header.length ? header[at++] & 0xFF : 0;
            }
        };
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> Wire.read(endless));
        assertTrue(e.getMessage().contains("exceeds the limit"), e.getMessage());
    }

    @Test
    void unknownTypeAndSetFlagsAreRefused() {
        byte[] bytes = Wire.encode(Frame.of(MessageType.OK, 1, new byte[0]));
        bytes[6] = (byte) 0x99;
        assertTrue(malformed(bytes).getMessage().contains("unknown message type"));
        bytes = Wire.encode(Frame.of(MessageType.OK, 1, new byte[0]));
        bytes[7] = 1;
        assertTrue(malformed(bytes).getMessage().contains("flags"));
    }

    @Test
    void aFlippedBitAnywhereFailsTheCrc() {
        byte[] good = Wire.encode(Frame.of(MessageType.WRITE, 9, new byte[] {10, 20, 30, 40, 50}));
        for (int bit = 8 * 8; bit < good.length * 8; bit++) { // past magic/version/type/flags: the CRC must catch it
            byte[] bad = good.clone();
            bad[bit / 8] ^= (byte) (1 << (bit % 8));
            if (bit / 8 >= 12 && bit / 8 < 16) {
                continue; // a changed length is a truncation or an oversize, tested on its own
            }
            MalformedFrameException e = malformed(bad);
            assertTrue(e.getMessage().contains("CRC32C"), e.getMessage());
        }
    }

    @Test
    void truncatedFrameIsMalformedNamingThePart() {
        byte[] good = Wire.encode(Frame.of(MessageType.WRITE, 9, new byte[] {10, 20, 30, 40, 50}));
        for (int cut = 1; cut < good.length; cut++) {
            MalformedFrameException e = malformed(Arrays.copyOf(good, cut));
            assertTrue(e.getMessage().contains("connection closed inside"), e.getMessage());
        }
    }

    @Test
    void programWithEveryOpRoundTripsFieldByField() throws Exception {
        Slice a = new Slice(1, 8, 64);
        Slice b = new Slice(2, 0, 16);
        Slice c = new Slice(3, 1L << 32, 4);
        Program program = new Program("decode blk.0-11 ✓", List.of(
                new Op.EmbeddingRow(2, a, 32, c, b),
                new Op.MatMul(12, a, 5, 256, 2, b, c, ActivationMode.FLOAT),
                new Op.RmsNorm(a, b, a, 1e-5f),
                new Op.Rope(a, 4, 64, 64, 10000f, c),
                new Op.Attention(a, b, c, a, b, c, 8, 2, 64, a),
                new Op.SwiGlu(a, b, a),
                new Op.Add(a, b, b),
                new Op.Copy(a, b),
                new Op.Send(1, a, Slice.NONE),
                new Op.Receive(0, a, b, Combine.MAX),
                new Op.Forward(0, 1, 4096),
                new Op.Reduce(Combine.MIN, a, b, c, b),
                new Op.TagOrigins(Combine.MAX, a, b, 254),
                new Op.Divide(a, 4f)));
        assertEquals(Set.of(OpCode.values()), Set.copyOf(program.ops().stream().map(Op::code).toList()));
        assertEquals(program, ProgramCodec.decode(ProgramCodec.encode(program)));
    }

    @Test
    void programDecoderRefusesBadFields() {
        byte[] good = ProgramCodec.encode(Program.of("p", new Op.Divide(new Slice(1, 0, 4), 2f)));
        assertThrows(MalformedFrameException.class, () -> ProgramCodec.decode(Arrays.copyOf(good, good.length - 1)));
        byte[] trailing = Arrays.copyOf(good, good.length + 1);
        assertTrue(assertThrows(MalformedFrameException.class, () -> ProgramCodec.decode(trailing)).getMessage()
                .contains("trailing"));
        byte[] badCode = good.clone();
        badCode[2 + 1 + 4] = 99; // label "p" (u16 + 1), count u32, then the op code
        assertTrue(assertThrows(MalformedFrameException.class, () -> ProgramCodec.decode(badCode)).getMessage()
                .contains("unknown op code 99"));
        byte[] hugeCount = good.clone();
        ByteBuffer.wrap(hugeCount).order(ByteOrder.LITTLE_ENDIAN).putInt(3, 60_000);
        assertTrue(assertThrows(MalformedFrameException.class, () -> ProgramCodec.decode(hugeCount)).getMessage()
                .contains("cannot fit"));
        byte[] noneWithRange = ProgramCodec.encode(Program.of("p", new Op.Divide(new Slice(1, 0, 4), 2f)));
        ByteBuffer.wrap(noneWithRange).order(ByteOrder.LITTLE_ENDIAN).putLong(8, 0); // handle 0 with a length
        assertThrows(MalformedFrameException.class, () -> ProgramCodec.decode(noneWithRange));
        byte[] badEnum = ProgramCodec.encode(Program.of("p", new Op.Receive(0, new Slice(1, 0, 4), Slice.NONE,
                Combine.SUM)));
        badEnum[badEnum.length - 1] = 7;
        assertTrue(assertThrows(MalformedFrameException.class, () -> ProgramCodec.decode(badEnum)).getMessage()
                .contains("combine"));
    }

    @Test
    void helloReplyCarriesTheTimeDilationAndTheCardClockToA12HostOnly() throws Exception {
        byte[] nonce = Handshake.nonce();
        Messages.HelloReply reply = new Messages.HelloReply(1, 2, "sails-emu-0", "emulator-0.1", 0, 4L << 30,
                Set.of(2), Set.of(OpCode.values()), List.of(), nonce, nonce, 4, -123_456_789L);
        Messages.HelloReply back = Messages.HelloReply.decode(reply.encode(2));
        assertEquals(4.0, back.timeDilation());
        assertEquals(-123_456_789L, back.cardClockNanos());
        // a 1.1 host reads no trailing bytes: the card leaves the 1.2 fields out, and the host sees K = 1
        byte[] forOldHost = reply.encode(1);
        assertEquals(reply.encode(2).length - 16, forOldHost.length);
        Messages.HelloReply old = Messages.HelloReply.decode(forOldHost);
        assertEquals(1.0, old.timeDilation());
        assertEquals(Messages.HelloReply.NO_CLOCK, old.cardClockNanos());
        // a 1.1 card's reply (no fields after the proof) is K = 1 for this host
        Messages.HelloReply card11 = new Messages.HelloReply(1, 1, "sails-emu-0", "emulator-0.1", 0, 4L << 30,
                Set.of(2), Set.of(OpCode.values()), List.of(), nonce, nonce);
        assertEquals(1.0, Messages.HelloReply.decode(card11.encode(2)).timeDilation());
        // a dilation below 1 or absurdly large on the wire is malformed
        byte[] bad = reply.encode(2);
        ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putLong(bad.length - 16, Double.doubleToRawLongBits(0.5));
        assertTrue(assertThrows(MalformedFrameException.class, () -> Messages.HelloReply.decode(bad)).getMessage()
                .contains("time dilation"));
        assertThrows(IllegalArgumentException.class, () -> new Messages.HelloReply(1, 2, "s", "f", 0, 1, Set.of(),
                Set.of(), List.of(), nonce, nonce, Double.NaN, 0));
    }

    @Test
    void helloReplyCarriesTheHostLinksOwnDilationToA13HostOnlyAndAnOlderCardsIsItsK() throws Exception {
        byte[] nonce = Handshake.nonce();
        Messages.HelloReply reply = new Messages.HelloReply(1, 3, "sails-emu-0", "emulator-0.1", 0, 4L << 30,
                Set.of(2), Set.of(OpCode.values()), List.of(), nonce, nonce, 16, 42L, 1);
        Messages.HelloReply back = Messages.HelloReply.decode(reply.encode(3));
        assertEquals(16.0, back.timeDilation());
        assertEquals(1.0, back.hostLinkDilation());
        assertEquals(42L, back.cardClockNanos());
        // a 1.2 host reads the 1.2 fields and nothing after them (it refuses trailing bytes)
        byte[] for12 = reply.encode(2);
        assertEquals(reply.encode(3).length - 8, for12.length);
        assertEquals(16.0, Messages.HelloReply.decode(for12).timeDilation());
        // a 1.2 card paces its host link like everything else: this host reads its K as the host link's too
        Messages.HelloReply card12 = new Messages.HelloReply(1, 2, "sails-emu-0", "emulator-0.1", 0, 4L << 30,
                Set.of(2), Set.of(OpCode.values()), List.of(), nonce, nonce, 16, 42L);
        assertEquals(16.0, card12.hostLinkDilation());
        Messages.HelloReply read12 = Messages.HelloReply.decode(card12.encode(3));
        assertEquals(16.0, read12.hostLinkDilation());
        assertEquals(reply.encode(3).length - 8, card12.encode(3).length, "a 1.2 card sends no 1.3 field");
        // out of range on the wire: malformed
        byte[] bad = reply.encode(3);
        ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putLong(bad.length - 8, Double.doubleToRawLongBits(0.5));
        assertTrue(assertThrows(MalformedFrameException.class, () -> Messages.HelloReply.decode(bad)).getMessage()
                .contains("host-link dilation"));
        assertThrows(IllegalArgumentException.class, () -> new Messages.HelloReply(1, 3, "s", "f", 0, 1, Set.of(),
                Set.of(), List.of(), nonce, nonce, 2, 0, 1001));
    }

    @Test
    void completeCarriesTheProgramsStartAndFinishOnTheCardClockToA12HostOnly() throws Exception {
        Messages.Complete c = new Messages.Complete(7, 1000, -50, 950);
        assertEquals(c, Messages.Complete.decode(c.encode(2)));
        Messages.Complete old = Messages.Complete.decode(c.encode(1));
        assertEquals(new Messages.Complete(7, 1000), old);
        assertFalse(old.timed());
        byte[] backwards = new Messages.Complete(7, 1000, 950, -50).encode(2);
        assertThrows(MalformedFrameException.class, () -> Messages.Complete.decode(backwards));
    }

    @Test
    void messagesRoundTrip() throws Exception {
        byte[] nonce = Handshake.nonce();
        byte[] proof = Handshake.cardProof(Handshake.newSecret(), nonce, nonce);
        Messages.HelloReply reply = new Messages.HelloReply(1, 0, "sails-emu-3", "emulator-0.1", 3, 4L << 30,
                Set.of(0, 2, 12), Set.of(OpCode.values()), List.of(new LinkPort(0, 0, 1, 500_000_000, 1e-6)), nonce,
                proof);
        Messages.HelloReply back = Messages.HelloReply.decode(reply.encode());
        assertEquals(reply.serial(), back.serial());
        assertEquals(reply.index(), back.index());
        assertEquals(reply.memoryBytes(), back.memoryBytes());
        assertEquals(reply.weightTypes(), back.weightTypes());
        assertEquals(reply.ops(), back.ops());
        assertEquals(reply.ports(), back.ports());
        assertArrayEquals(proof, back.cardProof());
        assertEquals(new Messages.Alloc(123, "blk.3.attn_q"), Messages.Alloc.decode(new Messages.Alloc(123,
                "blk.3.attn_q").encode()));
        assertEquals(new Messages.Read(5, 77, 1024), Messages.Read.decode(new Messages.Read(5, 77, 1024).encode()));
        Messages.Write w = Messages.Write.decode(new Messages.Write(5, 9, new byte[] {0, 1, 2, 3}, 1, 2).encode());
        assertEquals(5, w.handle());
        assertEquals(9, w.offset());
        assertArrayEquals(new byte[] {1, 2}, w.bytes());
        assertEquals(new Messages.LinkStatus(List.of(new PortStatus(0, LinkState.UP), new PortStatus(1,
                LinkState.FAULT))), Messages.LinkStatus.decode(new Messages.LinkStatus(List.of(new PortStatus(0,
                        LinkState.UP), new PortStatus(1, LinkState.FAULT))).encode()));
        Messages.LinkEvent event = new Messages.LinkEvent(1, 2, LinkState.FAULT, LinkState.UP, "peer lost");
        assertEquals(event, Messages.LinkEvent.decode(event.encode()));
        Messages.Telemetry t = new Messages.Telemetry(1, 2, 3, 4, 5, 6, 7, List.of(new PortTraffic(0, 8, 9, 10, 11)));
        assertEquals(t, Messages.Telemetry.decode(t.encode()));
        Messages.Error error = new Messages.Error(WireError.OUT_OF_MEMORY, -1, 0, 100, 50, 4096, "no room");
        assertEquals(error, Messages.Error.decode(error.encode()));
        Messages.LinkCable cable = new Messages.LinkCable(2, 1, 1, 0, true, "127.0.0.1:4000");
        assertEquals(cable, Messages.LinkCable.decode(cable.encode()));
    }

    @Test
    void writeChunkOverTheLimitIsRefused() {
        byte[] payload = new Messages.Write(1, 0, new byte[Wire.MAX_CHUNK_BYTES + 1], 0, Wire.MAX_CHUNK_BYTES + 1)
                .encode();
        assertThrows(MalformedFrameException.class, () -> Messages.Write.decode(payload));
    }

    @Test
    void stringsMustBeValidUtf8AndBounded() {
        byte[] bad = new WireWriter().u16(2).bytes(new byte[] {(byte) 0xC3, (byte) 0x28}).toBytes();
        assertThrows(MalformedFrameException.class, () -> new WireReader(bad).string("s"));
        byte[] tooLong = new WireWriter().u16(WireReader.MAX_STRING_BYTES + 1).toBytes();
        assertThrows(MalformedFrameException.class, () -> new WireReader(tooLong).string("s"));
    }

    @Test
    void proofsDependOnSecretDirectionAndBothNonces() {
        byte[] secret = Handshake.newSecret();
        byte[] host = Handshake.nonce();
        byte[] card = Handshake.nonce();
        byte[] cardProof = Handshake.cardProof(secret, host, card);
        assertTrue(Handshake.matches(cardProof, Handshake.cardProof(secret, host, card)));
        assertFalse(Handshake.matches(cardProof, Handshake.hostProof(secret, host, card)));
        assertFalse(Handshake.matches(cardProof, Handshake.cardProof(Handshake.newSecret(), host, card)));
        assertFalse(Handshake.matches(cardProof, Handshake.cardProof(secret, card, host)));
    }

    @Test
    void randomBytesNeverEscapeAsAnythingButMalformedOrEof() {
        Random random = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = new byte[random.nextInt(64)];
            random.nextBytes(bytes);
            if (bytes.length >= 4 && random.nextBoolean()) {
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(0, Wire.MAGIC);
            }
            try {
                Wire.read(new ByteArrayInputStream(bytes));
            } catch (MalformedFrameException | EOFException expected) {
                // the only two outcomes allowed
            } catch (Exception e) {
                throw new AssertionError("random frame " + i + " escaped as " + e, e);
            }
            try {
                ProgramCodec.decode(bytes);
            } catch (MalformedFrameException expected) {
                // fine
            }
        }
    }

    /** The planners cost a decode step's host traffic by HostLinkTraffic's sizes; these are the frames that carry it. */
    @Test
    void thePayloadsThePlannersCostAreTheOnesOnTheWire() {
        assertEquals(HostLinkTraffic.COMPLETE_BYTES, new Messages.Complete(3, 1_000, 5, 9).encode(2).length);
        assertEquals(HostLinkTraffic.READ_REQUEST_BYTES, new Messages.Read(7, 64, 4096).encode().length);
    }
}
