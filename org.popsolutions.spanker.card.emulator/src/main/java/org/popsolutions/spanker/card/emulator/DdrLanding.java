package org.popsolutions.spanker.card.emulator;

import java.nio.ByteBuffer;
import org.popsolutions.spanker.protocol.WriteLanding;

/**
 * One host connection's WRITE chunks landing straight in DDR (the socket's bytes copied once, by the kernel), each
 * put back as it was when the chunk fails its CRC or its stream ends inside it. A range nobody has touched since the
 * buffer was made reads zero, so undoing it is zeroing it (the whole chunk: memory kept from a freed buffer still
 * holds that buffer's bytes where the failed chunk did not reach): a load, which writes each range once, keeps no copy
 * of anything. A range written before (a step's input written token after token, a buffer written again) is copied to
 * this connection's backup piece by piece just before the socket's bytes overwrite it, while the piece is in cache
 * for the kernel's copy that follows; the backup grows to the largest such chunk (at most 1 MiB).
 */
final class DdrLanding implements WriteLanding {
    private final Ddr ddr;
    private ByteBuffer backup = ByteBuffer.allocateDirect(0);

    DdrLanding(Ddr ddr) {
        this.ddr = ddr;
    }

    @Override
    public Target open(long handle, long offset, int length) {
        Ddr.Destination destination;
        try {
            destination = ddr.destination(handle, offset, length);
        } catch (Ddr.Refusal refused) {
            return null; // staged: the card answers the refusal once the frame has passed its CRC
        }
        if (destination.untouched()) {
            return new Landed(destination.bytes(), null);
        }
        if (backup.capacity() < length) {
            backup = ByteBuffer.allocateDirect(length);
        }
        return new Landed(destination.bytes(), backup);
    }

    /** A chunk landing in DDR; {@code kept} holds what it overwrites, or is null where the range still read zero. */
    private record Landed(ByteBuffer bytes, ByteBuffer kept) implements Target {
        @Override
        public void saving(int from, int to) {
            if (kept != null) {
                kept.put(from, bytes, from, to - from);
            }
        }

        @Override
        public void undo(int landed) {
            if (kept != null) {
                bytes.put(0, kept, 0, landed);
            } else {
                Ddr.zero(bytes, 0, bytes.capacity()); // only when a chunk fails
            }
        }
    }
}
