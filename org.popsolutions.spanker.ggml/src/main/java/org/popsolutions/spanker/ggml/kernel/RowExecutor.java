package org.popsolutions.spanker.ggml.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs a range of rows on several threads, the caller's included. The rows are handed out in chunks that each
 * thread takes as it becomes free, so a late-starting or descheduled thread (another process on the same core)
 * holds the others back by one chunk at most, not by a whole share. One executor per model/benchmark (threads
 * are daemons named {@code spanker-rows-N}), closed when done.
 *
 * <p>The helper threads are the executor's own and wait for the next call spinning briefly, then parked; a call
 * hands them its work through fields (no task objects, no futures), so a decode step's products allocate nothing
 * here and a helper that was spinning starts within microseconds. A call made while another is running on this
 * executor (from another thread, or from inside a chunk) runs on its caller alone.
 */
public final class RowExecutor implements AutoCloseable {
    /**
     * Work on rows [from, to). Called once per chunk, possibly several times on the same thread and concurrently
     * on different threads; the chunks are disjoint and together cover the range.
     */
    @FunctionalInterface
    public interface RowRange {
        void run(int from, int to);
    }

    /**
     * Rounds a waiting thread spins, then yields, before it parks: the next product of a token comes within
     * microseconds, but on a machine with more runnable threads than cores a long spin only takes a core from the
     * threads that have work, so both are short.
     */
    private static final int SPINS = 64;
    private static final int YIELDS = 8;

    private final int threads;
    private final Thread[] helpers;
    private final ReentrantLock running = new ReentrantLock();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    /** Per helper, the number of the last call it was asked to work on (set by that call, after its fields). */
    private final AtomicLongArray tickets;
    private long calls;
    private volatile RowRange work;
    private volatile int rows;
    private volatile int chunk;
    private volatile Thread caller;
    private volatile Throwable failure;
    private volatile boolean closed;

    public RowExecutor(int threads) {
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("thread count must be 1..1024, got " + threads);
        }
        this.threads = threads;
        this.helpers = new Thread[threads - 1];
        this.tickets = new AtomicLongArray(Math.max(1, threads - 1));
        for (int i = 0; i < helpers.length; i++) {
            int index = i;
            helpers[i] = new Thread(() -> helperLoop(index), "spanker-rows-" + (i + 1));
            helpers[i].setDaemon(true);
            helpers[i].start();
        }
    }

    public int threads() {
        return threads;
    }

    public void forRows(int rows, RowRange work) {
        forRows(rows, 1, work);
    }

    /**
     * As {@link #forRows(int, RowRange)}, every chunk but the range's last a whole number of {@code granule} rows, and
     * at least one granule: for work that goes in groups of rows (a matrix-matrix kernel's 32-row tiles, a padded
     * last group costing as much as a full one; query heads sharing one KV head), so that splitting the range among
     * threads does not cut a group in two and pad both halves.
     */
    public void forRows(int rows, int granule, RowRange work) {
        if (granule < 1) {
            throw new IllegalArgumentException("a granule is at least one row, got " + granule);
        }
        int groups = (rows + granule - 1) / granule;
        if (threads == 1 || groups <= 1 || closed || !running.tryLock()) {
            work.run(0, rows);
            return;
        }
        try {
            int helping = Math.min(threads, groups) - 1;
            // about 16 chunks per thread: small enough to balance, large enough to stream long runs of rows
            this.chunk = granule * Math.max(1, groups / (16 * (helping + 1)));
            this.rows = rows;
            this.work = work;
            this.failure = null;
            this.caller = Thread.currentThread();
            next.set(0);
            pending.set(helping);
            long call = ++calls;
            for (int i = 0; i < helping; i++) {
                tickets.set(i, call);
                LockSupport.unpark(helpers[i]);
            }
            drain();
            for (int spin = 0; pending.get() != 0 && spin < SPINS + YIELDS; spin++) {
                pause(spin);
            }
            while (pending.get() != 0) {
                LockSupport.park(this);
            }
            Throwable failed = failure;
            if (failed instanceof RuntimeException re) {
                throw re;
            }
            if (failed instanceof Error err) {
                throw err;
            }
            if (failed != null) {
                throw new IllegalStateException(failed);
            }
        } finally {
            this.work = null;
            this.caller = null;
            running.unlock();
        }
    }

    /** Takes chunks until none is left; a failure stops every thread after its current chunk. */
    private void drain() {
        RowRange w = work;
        int total = rows;
        int size = chunk;
        try {
            for (int from = next.getAndAdd(size); from < total; from = next.getAndAdd(size)) {
                w.run(from, Math.min(total, from + size));
            }
        } catch (RuntimeException | Error e) {
            if (failure == null) {
                failure = e;
            }
            next.set(total);
        }
    }

    private void helperLoop(int index) {
        long seen = 0;
        while (true) {
            for (int spin = 0; tickets.get(index) == seen && !closed && spin < SPINS + YIELDS; spin++) {
                pause(spin);
            }
            while (tickets.get(index) == seen && !closed) {
                LockSupport.park(this);
            }
            if (closed) {
                return;
            }
            seen = tickets.get(index);
            drain();
            if (pending.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    private static void pause(int round) {
        if (round < SPINS) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread helper : helpers) {
            LockSupport.unpark(helper);
        }
    }
}
