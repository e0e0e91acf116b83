package org.popsolutions.spanker.card.emulator;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * The card's DDR: a capacity, and buffers allocated as they are asked for (the capacity is a limit, not memory
 * reserved up front). Handles count up from 1 and are never reused while the card runs. Buffers are direct, off the
 * Java heap: the process holds its shard once, whatever its heap, and the kernels read the weights in place. The
 * fleet starts each card with -XX:MaxDirectMemorySize just above its capacity.
 *
 * <p>An ALLOC only books the bytes; the buffer's memory is taken at its first use (usually the first WRITE of a
 * load). A card's allocation is bookkeeping, but a direct buffer is zeroed when it is made: 600 MB of weights cost
 * the emulator about half a second before any byte could be written, a pause the host link would not have on the
 * hardware. Taken at the first WRITE, the zeroing runs inside the time the paced host link gives each chunk.
 */
final class Ddr {
    /** What one Java array can hold: the largest single buffer an emulated card offers. */
    static final long MAX_BUFFER_BYTES = Integer.MAX_VALUE - 64;

    private final long capacity;
    private final Map<Long, Lazy> buffers = new HashMap<>();
    private final Map<Long, String> purposes = new HashMap<>();
    private long used;
    private long nextHandle = 1;

    Ddr(long capacity) {
        this.capacity = capacity;
    }

    /** Thrown for a request the card answers with an ERROR (not a malformed frame). */
    static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        final org.popsolutions.spanker.protocol.WireError kind;

        Refusal(org.popsolutions.spanker.protocol.WireError kind, String message) {
            super(message);
            this.kind = kind;
        }
    }

    synchronized long capacity() {
        return capacity;
    }

    synchronized long used() {
        return used;
    }

    synchronized int count() {
        return buffers.size();
    }

    /** A handle, or -1 when {@code bytes} do not fit in what is free. */
    synchronized long allocate(long bytes, String purpose) throws Refusal {
        if (bytes > MAX_BUFFER_BYTES) {
            throw new Refusal(org.popsolutions.spanker.protocol.WireError.UNSUPPORTED, "an emulated card holds buffers"
                    + " of at most " + MAX_BUFFER_BYTES + " bytes, " + purpose + " asks for " + bytes);
        }
        if (bytes > capacity - used) {
            return -1;
        }
        long handle = nextHandle++;
        buffers.put(handle, new Lazy((int) bytes, purpose));
        purposes.put(handle, purpose);
        used += bytes;
        return handle;
    }

    synchronized void free(long handle) throws Refusal {
        Lazy b = buffers.remove(handle);
        if (b == null) {
            throw new Refusal(org.popsolutions.spanker.protocol.WireError.BAD_HANDLE, "handle " + handle
                    + " is not a live buffer on this card");
        }
        purposes.remove(handle);
        used -= b.size;
    }

    synchronized void reset() {
        buffers.clear();
        purposes.clear();
        used = 0;
    }

    /**
     * A little-endian view of {@code bytes} bytes from {@code offset} of buffer {@code handle}: index 0 is the
     * range's first byte, capacity its length. Whoever asks may write it: the range counts as touched from now on.
     */
    ByteBuffer range(long handle, long offset, long bytes) throws Refusal {
        Lazy lazy = live(handle);
        ByteBuffer b = within(lazy, handle, offset, bytes);
        lazy.touch(offset, offset + bytes);
        return b;
    }

    /**
     * A WRITE chunk's destination, as {@link #range}, and whether none of its bytes was ever handed out before (then
     * they all still read zero, as the buffer was made).
     */
    record Destination(ByteBuffer bytes, boolean untouched) {
    }

    /** As {@link #range}, saying whether the range was untouched before. */
    Destination destination(long handle, long offset, int bytes) throws Refusal {
        Lazy lazy = live(handle);
        ByteBuffer b = within(lazy, handle, offset, bytes);
        return new Destination(b, lazy.touch(offset, offset + bytes));
    }

    private Lazy live(long handle) throws Refusal {
        Lazy lazy;
        synchronized (this) {
            lazy = buffers.get(handle);
        }
        if (lazy == null) {
            throw new Refusal(org.popsolutions.spanker.protocol.WireError.BAD_HANDLE, "handle " + handle
                    + " is not a live buffer on this card");
        }
        return lazy;
    }

    private static ByteBuffer within(Lazy lazy, long handle, long offset, long bytes) throws Refusal {
        ByteBuffer b = lazy.bytes();
        if (offset < 0 || bytes < 0 || offset > b.capacity() || bytes > b.capacity() - offset) {
            throw new Refusal(org.popsolutions.spanker.protocol.WireError.BAD_RANGE, "bytes [" + offset + ", "
                    + (offset + bytes) + ") lie outside buffer " + handle + " of " + b.capacity() + " bytes");
        }
        return b.duplicate().position((int) offset).limit((int) (offset + bytes)).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A booked buffer whose memory is taken (zeroed, as a fresh card buffer reads) at its first use. */
    private static final class Lazy {
        final int size;
        final String purpose;
        private ByteBuffer bytes;
        /**
         * No byte from here on was ever handed out (each still reads zero): a high-water mark, so a range below it
         * counts as touched even where nobody wrote, never the other way round.
         */
        private long touchedEnd;

        /** Marks [from, to) as handed out; true when none of it was before. */
        synchronized boolean touch(long from, long to) {
            boolean untouched = from >= touchedEnd;
            touchedEnd = Math.max(touchedEnd, to);
            return untouched;
        }

        Lazy(int size, String purpose) {
            this.size = size;
            this.purpose = purpose;
        }

        synchronized ByteBuffer bytes() throws Refusal {
            if (bytes == null) {
                try {
                    bytes = ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
                } catch (OutOfMemoryError e) {
                    throw new Refusal(org.popsolutions.spanker.protocol.WireError.INTERNAL, "the emulator process"
                            + " cannot reserve " + size + " bytes for " + purpose + " (" + e.getMessage() + "); start"
                            + " it with a -XX:MaxDirectMemorySize above its --memory");
                }
            }
            return bytes;
        }
    }
}
