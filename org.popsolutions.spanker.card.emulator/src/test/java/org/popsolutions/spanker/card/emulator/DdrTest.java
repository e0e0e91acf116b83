package org.popsolutions.spanker.card.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.protocol.WriteLanding;

/**
 * The card's DDR keeps a freed buffer's memory for the next buffer of the same size, and that buffer still reads zero
 * wherever nobody wrote it, a failed WRITE chunk included, as a buffer made new does.
 */
class DdrTest {
    private static final int MIB = 1 << 20;

    /** Fills the whole buffer {@code handle} with {@code value} and frees it, returning its memory. */
    private static ByteBuffer filledAndFreed(Ddr ddr, long handle, int bytes, byte value) throws Ddr.Refusal {
        ByteBuffer b = ddr.range(handle, 0, bytes);
        for (int i = 0; i < bytes; i++) {
            b.put(i, value);
        }
        return ddr.free(handle);
    }

    private static void assertReads(ByteBuffer b, int from, int to, byte value, String what) {
        for (int i = from; i < to; i++) {
            if (b.get(i) != value) {
                throw new AssertionError(what + ": byte " + i + " reads " + b.get(i) + ", not " + value);
            }
        }
    }

    @Test
    void aFreedBuffersMemoryServesTheNextOfItsSizeAndReadsZeroWhereNobodyWrote() throws Exception {
        Ddr ddr = new Ddr(8L * MIB);
        long first = ddr.allocate(MIB, "first");
        ByteBuffer memory = filledAndFreed(ddr, first, MIB, (byte) 0x55);
        assertNotNull(memory, "a used buffer's memory comes back from FREE");
        ddr.keep(memory);
        assertEquals(MIB, ddr.keptBytes());
        assertNull(ddr.free(ddr.allocate(2 * MIB, "another size")), "a buffer never used has no memory to give back");
        assertEquals(MIB, ddr.keptBytes(), "memory is kept for its own size only");

        long second = ddr.allocate(MIB, "second");
        assertEquals(0, ddr.keptBytes(), "the next buffer of that size took it");
        // a WRITE chunk into [4096, 12288): the chunk is not zeroed first (it is about to be overwritten), the gap
        // below it is
        Ddr.Destination chunk = ddr.destination(second, 4096, 8192);
        assertTrue(chunk.untouched());
        assertReads(chunk.bytes(), 0, 8192, (byte) 0x55, "the chunk's destination, the freed buffer's own memory");
        assertReads(ddr.range(second, 0, 4096), 0, 4096, (byte) 0, "the gap below the chunk");
        assertReads(ddr.range(second, 12288, MIB - 12288), 0, MIB - 12288, (byte) 0, "the rest, read after the chunk");
    }

    @Test
    void aChunkThatFailsOverAFreedBuffersMemoryLeavesItAllZero() throws Exception {
        Ddr ddr = new Ddr(8L * MIB);
        ddr.keep(filledAndFreed(ddr, ddr.allocate(MIB, "first"), MIB, (byte) 0x55));
        long second = ddr.allocate(MIB, "second");
        WriteLanding.Target target = new DdrLanding(ddr).open(second, 0, MIB / 2);
        // 100 bytes landed, then the stream ended: the rest of the chunk still held the freed buffer's bytes
        target.saving(0, 100);
        for (int i = 0; i < 100; i++) {
            target.bytes().put(i, (byte) 7);
        }
        target.undo(100);
        assertReads(ddr.range(second, 0, MIB), 0, MIB, (byte) 0, "the whole buffer after the failed chunk");
    }

    @Test
    void aChunkOverlappingWhatWasHandedOutPutsBackZerosAboveIt() throws Exception {
        Ddr ddr = new Ddr(8L * MIB);
        ddr.keep(filledAndFreed(ddr, ddr.allocate(MIB, "first"), MIB, (byte) 0x55));
        long second = ddr.allocate(MIB, "second");
        ByteBuffer written = ddr.range(second, 0, 1000);
        for (int i = 0; i < 1000; i++) {
            written.put(i, (byte) 9);
        }
        // [500, 3000): half over written bytes, half over bytes nobody was handed; it fails after landing whole
        WriteLanding.Target target = new DdrLanding(ddr).open(second, 500, 2500);
        target.saving(0, 2500);
        for (int i = 0; i < 2500; i++) {
            target.bytes().put(i, (byte) 7);
        }
        target.undo(2500);
        ByteBuffer back = ddr.range(second, 0, MIB);
        assertReads(back, 0, 1000, (byte) 9, "what was written before");
        assertReads(back, 1000, MIB, (byte) 0, "what nobody wrote");
    }

    @Test
    void keptMemoryNeverExceedsWhatIsFree() throws Exception {
        Ddr ddr = new Ddr(2L * MIB);
        long a = ddr.allocate(MIB, "a");
        long b = ddr.allocate(MIB, "b");
        ByteBuffer aMemory = filledAndFreed(ddr, a, MIB, (byte) 1);
        ddr.keep(aMemory);
        assertEquals(MIB, ddr.keptBytes(), "a's memory fits in what its FREE left free");
        long c = ddr.allocate(MIB / 2, "c");
        assertEquals(0, ddr.keptBytes(), "booking c left less free than was kept: the kept memory is let go");
        ddr.keep(filledAndFreed(ddr, b, MIB, (byte) 2));
        assertEquals(MIB, ddr.keptBytes());
        ddr.range(c, 0, MIB / 2);
        ddr.keep(ddr.free(c));
        assertEquals(MIB + MIB / 2, ddr.keptBytes(), "kept as long as it fits");
        ddr.allocate(MIB, "d");
        assertEquals(MIB / 2, ddr.keptBytes(), "d took b's memory, c's is still kept");
    }
}
