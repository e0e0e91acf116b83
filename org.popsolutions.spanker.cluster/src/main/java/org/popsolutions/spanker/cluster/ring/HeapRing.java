package org.popsolutions.spanker.cluster.ring;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Linqu's heap ring: a bump allocator over a fixed number of bytes that wraps to the start when the end is too
 * short (skipping the tail), and retires memory only as an unbroken prefix of released allocations.
 * Not thread-safe: the ring's lock guards it.
 */
final class HeapRing {
    private final long capacity;
    private final Deque<Allocation> live = new ArrayDeque<>();
    private long top;
    private long used;

    HeapRing(long capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("heap ring capacity must be positive, was " + capacity);
        }
        this.capacity = capacity;
    }

    /** An allocation; {@link #release} marks it free, memory comes back once every older one is free too. */
    static final class Allocation {
        final long offset;
        final long size;
        /** Bytes skipped at the end of the ring when this allocation wrapped to offset 0. */
        final long skipped;
        boolean released;

        Allocation(long offset, long size, long skipped) {
            this.offset = offset;
            this.size = size;
            this.skipped = skipped;
        }
    }

    long capacity() {
        return capacity;
    }

    long used() {
        return used;
    }

    /** The allocation, or {@code null} when the ring has no room for {@code size} bytes now. */
    Allocation allocate(long size) {
        if (size <= 0 || size > capacity) {
            throw new IllegalArgumentException("allocation of " + size + " bytes does not fit a heap ring of "
                    + capacity + " bytes");
        }
        if (live.isEmpty()) {
            top = 0;
        }
        long tail = live.isEmpty() ? 0 : live.peekFirst().offset;
        boolean wrapped = !live.isEmpty() && top <= tail;
        Allocation allocation = null;
        if (!wrapped) {
            if (top + size <= capacity) {
                allocation = new Allocation(top, size, 0);
            } else if (size <= tail) {
                allocation = new Allocation(0, size, capacity - top);
            }
        } else if (top + size <= tail) {
            allocation = new Allocation(top, size, 0);
        }
        if (allocation == null) {
            return null;
        }
        live.addLast(allocation);
        top = allocation.offset + size;
        used += size + allocation.skipped;
        return allocation;
    }

    /** Marks {@code allocation} free and retires the unbroken prefix of free allocations. */
    void release(Allocation allocation) {
        allocation.released = true;
        while (!live.isEmpty() && live.peekFirst().released) {
            Allocation retired = live.removeFirst();
            used -= retired.size + retired.skipped;
        }
    }
}
