package org.popsolutions.spanker.card.emulator;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
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
 *
 * <p>A freed buffer's memory is kept for the next ALLOC of the same size (a model loaded again into a running fleet, a
 * benchmark's fresh buffer per round) instead of being left to the garbage collector and made and zeroed again: at
 * 256 MiB that took 0.45-0.9 s here, longer than sending the bytes. Such memory still holds the freed buffer's bytes;
 * each range is zeroed as it is first handed out ({@link Lazy#touch}), except what a WRITE chunk is about to overwrite,
 * so a fresh buffer reads zero wherever nobody wrote, as one made new does. Kept memory never exceeds what is free, so
 * the live and kept buffers together stay within the capacity (the process's direct-memory limit). The caller decides
 * when freed memory may be kept ({@link #keep}): only once no program can still hold a view of it.
 */
final class Ddr {
    /** What one Java array can hold: the largest single buffer an emulated card offers. */
    static final long MAX_BUFFER_BYTES = Integer.MAX_VALUE - 64;

    private final long capacity;
    private final Map<Long, Lazy> buffers = new HashMap<>();
    private final Map<Long, String> purposes = new HashMap<>();
    /** Memory of freed buffers by size, for the next ALLOC of that size. */
    private final Map<Integer, ArrayDeque<ByteBuffer>> kept = new HashMap<>();
    private long keptBytes;
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
        buffers.put(handle, new Lazy((int) bytes, purpose, takeKept((int) bytes)));
        purposes.put(handle, purpose);
        used += bytes;
        dropKeptBeyond(capacity - used);
        return handle;
    }

    /**
     * Frees a buffer.
     *
     * @return its memory, or null when it was never used; hand it to {@link #keep} once nothing can read or write it
     *         any more
     */
    synchronized ByteBuffer free(long handle) throws Refusal {
        Lazy b = buffers.remove(handle);
        if (b == null) {
            throw new Refusal(org.popsolutions.spanker.protocol.WireError.BAD_HANDLE, "handle " + handle
                    + " is not a live buffer on this card");
        }
        purposes.remove(handle);
        used -= b.size;
        return b.made();
    }

    /**
     * Keeps a freed buffer's memory for the next ALLOC of its size, as long as the kept memory fits in what is free
     * (else it is left to the garbage collector). Only for memory no program holds a view of any more: a view kept
     * past the FREE would write into the next buffer that takes it.
     */
    synchronized void keep(ByteBuffer memory) {
        if (memory == null || keptBytes + memory.capacity() > capacity - used) {
            return;
        }
        kept.computeIfAbsent(memory.capacity(), size -> new ArrayDeque<>()).push(memory);
        keptBytes += memory.capacity();
    }

    /** Bytes of freed buffers' memory kept for reuse. */
    synchronized long keptBytes() {
        return keptBytes;
    }

    private ByteBuffer takeKept(int size) {
        ArrayDeque<ByteBuffer> same = kept.get(size);
        if (same == null) {
            return null;
        }
        ByteBuffer memory = same.pop();
        if (same.isEmpty()) {
            kept.remove(size);
        }
        keptBytes -= size;
        return memory;
    }

    /** Lets go of kept memory until at most {@code bytes} are kept. */
    private void dropKeptBeyond(long bytes) {
        var sizes = kept.entrySet().iterator();
        while (keptBytes > bytes && sizes.hasNext()) {
            var same = sizes.next();
            while (keptBytes > bytes && !same.getValue().isEmpty()) {
                keptBytes -= same.getValue().pop().capacity();
            }
            if (same.getValue().isEmpty()) {
                sizes.remove();
            }
        }
    }

    /** Drops every buffer (a running program may still hold views of them: their memory is not kept). */
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
        lazy.touch(offset, offset + bytes, false);
        return b;
    }

    /**
     * A WRITE chunk's destination, as {@link #range}, and whether none of its bytes was ever handed out before. Then
     * they must read zero should the chunk fail, and the caller zeroes them if it does (all of them: in memory kept
     * from a freed buffer they may still hold its bytes; a new buffer's read zero already).
     */
    record Destination(ByteBuffer bytes, boolean untouched) {
    }

    /** As {@link #range}, saying whether the range was untouched before. */
    Destination destination(long handle, long offset, int bytes) throws Refusal {
        Lazy lazy = live(handle);
        ByteBuffer b = within(lazy, handle, offset, bytes);
        return new Destination(b, lazy.touch(offset, offset + bytes, true));
    }

    private static final byte[] ZEROS = new byte[64 << 10];

    /** Zeroes bytes [from, to) of {@code b}. */
    static void zero(ByteBuffer b, long from, long to) {
        for (long at = from; at < to; at += ZEROS.length) {
            b.put((int) at, ZEROS, 0, (int) Math.min(ZEROS.length, to - at));
        }
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

    /**
     * A booked buffer whose memory is taken (zeroed, as a fresh card buffer reads) at its first use, or memory kept
     * from a freed buffer, zeroed as it is handed out.
     */
    private static final class Lazy {
        final int size;
        final String purpose;
        private ByteBuffer bytes;
        /**
         * No byte from here on was ever handed out (each reads zero, or is zeroed as it is handed out): a high-water
         * mark, so a range below it counts as touched even where nobody wrote, never the other way round.
         */
        private long touchedEnd;
        /** The memory was a freed buffer's: from {@link #touchedEnd} on it holds that buffer's bytes, not zeros. */
        private final boolean stale;

        /**
         * Marks [from, to) as handed out; true when none of it was before. Stale memory newly handed out is zeroed
         * first, except an untouched range a WRITE chunk is about to overwrite ({@code overwritten}): its landing
         * zeroes it should the chunk fail.
         */
        synchronized boolean touch(long from, long to, boolean overwritten) {
            boolean untouched = from >= touchedEnd;
            if (stale && to > touchedEnd) {
                zero(bytes, touchedEnd, untouched && overwritten ? from : to);
            }
            touchedEnd = Math.max(touchedEnd, to);
            return untouched;
        }

        Lazy(int size, String purpose, ByteBuffer kept) {
            this.size = size;
            this.purpose = purpose;
            this.bytes = kept == null ? null : kept.clear().order(ByteOrder.LITTLE_ENDIAN);
            this.stale = kept != null;
        }

        /** The memory, or null when it was never made. */
        synchronized ByteBuffer made() {
            return bytes;
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
