package org.popsolutions.spanker.cluster.ring;

/**
 * Linqu's dependency list pool: fixed entries linked into per-task consumer lists, index 0 meaning "none". Entries
 * come back to the free list when their producer retires (the original never reclaimed them).
 * Not thread-safe: the ring's lock guards it.
 */
final class DependencyPool {
    private final long[] consumer;
    private final int[] next;
    private int free;
    private int used;

    DependencyPool(int entries) {
        if (entries < 2) {
            throw new IllegalArgumentException("dependency pool needs at least 2 entries (0 is none), was " + entries);
        }
        consumer = new long[entries];
        next = new int[entries];
        for (int i = 1; i < entries - 1; i++) {
            next[i] = i + 1;
        }
        free = 1;
    }

    /** Prepends {@code consumerId} to the list at {@code head}; the new head, or -1 when the pool is full. */
    int push(int head, long consumerId) {
        if (free == 0) {
            return -1;
        }
        int entry = free;
        free = next[entry];
        consumer[entry] = consumerId;
        next[entry] = head;
        used++;
        return entry;
    }

    long consumer(int entry) {
        return consumer[entry];
    }

    int next(int entry) {
        return next[entry];
    }

    /** Returns a whole list to the free list. */
    void release(int head) {
        while (head != 0) {
            int following = next[head];
            next[head] = free;
            free = head;
            used--;
            head = following;
        }
    }

    int used() {
        return used;
    }

    int capacity() {
        return consumer.length - 1;
    }
}
