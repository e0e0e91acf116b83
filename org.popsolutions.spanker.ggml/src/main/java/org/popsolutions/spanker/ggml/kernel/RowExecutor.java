package org.popsolutions.spanker.ggml.kernel;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs a range of rows on several threads, the caller's included. The rows are handed out in chunks that each
 * thread takes as it becomes free, so a late-starting or descheduled thread (another process on the same core)
 * holds the others back by one chunk at most, not by a whole share. One executor per model/benchmark (threads
 * are daemons named {@code spanker-rows-N}), closed when done.
 *
 * <p>A call is over when its last row has run, not when every helper has looked in: a helper that was not on a core
 * while the caller took every chunk costs the call nothing (on a loaded machine, waiting for every helper to be
 * scheduled once cost a decode step's products more than their own work). A helper that comes late finds the call's
 * chunks gone, or the next call's: the call's number and its next row are one atomic word, so a chunk is only ever
 * taken for the call whose work, rows and chunk size the taker read.
 *
 * <p>The helper threads are the executor's own and wait for the next call spinning, then yielding, for
 * {@link #SPIN_NANOS} in all, then parked; a call hands them its work through fields (no task objects, no futures), so a decode step's products
 * allocate nothing here. The spin covers the gap between one product of a token and the next (a norm, a
 * quantization: microseconds), so a token's products find their helpers awake; between tokens they park. A call
 * made while another is running on this executor (from another thread, or from inside a chunk) runs on its caller
 * alone.
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
     * How long a waiting thread spins (then yields) before it parks: a helper waiting for the next product, the caller
     * waiting for the chunks still running on helpers. A parked thread can take tens of microseconds to run again (more
     * in a virtual machine); a token has about 150 products with a few microseconds of norm, rope or quantization
     * between most of them, so a helper parking between them cost a wake-up each. Long enough for that gap, short
     * enough to leave the cores to the JIT and other processes: at load 3-4, 32 TinyLlama Q4_0 tokens on 2 threads,
     * 20 µs ran at 1.02-1.04 times the speed of 200 µs in three rounds. That run, through {@code ./spanker run}, in
     * fact spun {@link #SHORT_SPIN_NANOS}: the int4 matmul service's executor, made and never used, was counted as open
     * (fixed in session 12). Decode steps alternating 20 µs and 5 µs in one run at load 10 from other processes: 0.94
     * (Java 17) and 0.99 (Java 25) times the speed; on an idle machine the long spin saves a wake-up at each gap of
     * 5-20 µs between a token's products (about three per block). {@code -Dspanker.rows.spinNanos} sets it.
     */
    static final long SPIN_NANOS = Long.getLong("spanker.rows.spinNanos", 20_000);

    /**
     * The wait instead of {@link #SPIN_NANOS} while the open executors have more threads than the machine has cores
     * (several cards of several threads each on two cores): a spinning helper then holds a core another executor's
     * caller has work for, so it parks almost at once, as before the long spin.
     */
    static final long SHORT_SPIN_NANOS = 5_000;

    private static final int CORES = Runtime.getRuntime().availableProcessors();
    /** The threads of the open executors of more than one thread that have handed out work, callers counted. */
    private static final AtomicInteger OPEN_THREADS = new AtomicInteger();
    private static final int UNCOUNTED = 0;
    private static final int COUNTED = 1;
    private static final int CLOSED = 2;

    /** The low half of {@link #state} when no chunk may be taken (between calls, while a call's fields are set). */
    private static final int CLOSED_CALL = Integer.MAX_VALUE;
    private static final long ROW_MASK = 0xffff_ffffL;

    private final int threads;
    private final Thread[] helpers;
    private final AtomicBoolean running = new AtomicBoolean();
    /** The running call's number (high half) and the first row no thread has taken yet (low half). */
    private final AtomicLong state = new AtomicLong(CLOSED_CALL);
    /** Rows of the running call that have run (or were skipped after a failure). */
    private final AtomicInteger done = new AtomicInteger();
    /** Per helper, the number of the last call it was asked to work on (set by that call, after its fields). */
    private final AtomicLongArray tickets;
    private long calls;
    private volatile RowRange work;
    private volatile int rows;
    /** The running call's largest chunk, smallest chunk (both in granules), granule and threads sharing it. */
    private volatile int chunk;
    private volatile int smallest;
    private volatile int granule;
    private volatile int sharing;
    private volatile Thread caller;
    private volatile Throwable failure;
    private volatile boolean closed;
    /**
     * Whether this executor's threads are in {@link #OPEN_THREADS}: from its first call that hands out work, not from
     * its construction. An executor made and never used (the int4 matmul service's, at activation) has parked helpers
     * that take no core; counted, it made a one-card decode on two cores look oversubscribed, and its helper parked
     * after 5 µs between products instead of spinning through them.
     */
    private final AtomicInteger counted = new AtomicInteger(UNCOUNTED);

    public RowExecutor(int threads) {
        this(threads, null);
    }

    /**
     * With {@code factory} making the helper threads (tests: a helper that starts late); null for the executor's own
     * daemons.
     */
    RowExecutor(int threads, ThreadFactory factory) {
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("thread count must be 1..1024, got " + threads);
        }
        this.threads = threads;
        this.helpers = new Thread[threads - 1];
        this.tickets = new AtomicLongArray(Math.max(1, threads - 1));
        for (int i = 0; i < helpers.length; i++) {
            int index = i;
            Runnable loop = () -> helperLoop(index);
            Thread helper = factory != null ? factory.newThread(loop) : new Thread(loop);
            helper.setName("spanker-rows-" + (i + 1));
            helper.setDaemon(true);
            helpers[i] = helper;
            helper.start();
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
        forRows(rows, granule, CHUNKS_PER_THREAD, SMALLEST_CHUNK_ROWS, work);
    }

    /**
     * As {@link #forRows(int, int, RowRange)} with at most about {@code chunksPerThread} chunks a thread and chunks of
     * at least {@code smallestRows} rows (one granule at least): for work whose every chunk costs more than its rows
     * (a packed product restarts a weight stream per column panel and chunk).
     */
    void forRows(int rows, int granule, int chunksPerThread, int smallestRows, RowRange work) {
        if (granule < 1) {
            throw new IllegalArgumentException("a granule is at least one row, got " + granule);
        }
        int groups = (rows + granule - 1) / granule;
        if (threads == 1 || groups <= 1 || closed || !running.compareAndSet(false, true)) {
            work.run(0, rows);
            return;
        }
        long call = 0;
        try {
            if (counted.get() == UNCOUNTED && counted.compareAndSet(UNCOUNTED, COUNTED)) {
                OPEN_THREADS.addAndGet(threads);
            }
            int helping = Math.min(threads, groups) - 1;
            call = ++calls & 0x7fff_ffffL;
            // no chunk of the new call can be taken while its fields are being set: a late helper of the last call
            // that read some of them sees the call number change under it and takes nothing
            state.set(call << 32 | CLOSED_CALL);
            this.granule = granule;
            this.chunk = Math.max(1, groups / (chunksPerThread * (helping + 1)));
            this.smallest = Math.min(this.chunk, Math.max(1, smallestRows / granule));
            this.sharing = helping + 1;
            this.rows = rows;
            this.work = work;
            this.failure = null;
            this.caller = Thread.currentThread();
            done.set(0);
            state.set(call << 32);
            for (int i = 0; i < helping; i++) {
                tickets.set(i, call);
                LockSupport.unpark(helpers[i]);
            }
            drain();
            if (done.get() < rows) {
                long start = System.nanoTime();
                long spin = spinNanos();
                for (long waited = 0; done.get() < rows && waited < spin; waited = System.nanoTime() - start) {
                    pause(waited, spin);
                }
                while (done.get() < rows) {
                    LockSupport.park(this);
                }
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
            state.set(call << 32 | CLOSED_CALL);
            this.work = null;
            this.caller = null;
            running.set(false);
        }
    }

    /**
     * Takes chunks of the running call until none is left; a failure stops every thread after its current chunk. The
     * call's fields are read after its number: if they are a later call's, the number has changed and nothing is
     * taken.
     */
    private void drain() {
        long s = state.get();
        long call = s & ~ROW_MASK;
        RowRange w = work;
        int total = rows;
        int largest = chunk;
        int least = smallest;
        int unit = granule;
        int threadsSharing = sharing;
        Thread waiting = caller;
        while (true) {
            int from = (int) (s & ROW_MASK);
            // a later call's chunks are not for the fields read here
            if ((s & ~ROW_MASK) != call || from >= total || w == null) {
                return;
            }
            int to = chunkEnd(from, total, unit, largest, least, threadsSharing);
            long taken = (s & ~ROW_MASK) | to;
            if (!state.compareAndSet(s, taken)) {
                s = state.get();
                continue;
            }
            int finished = to - from;
            try {
                w.run(from, to);
            } catch (RuntimeException | Error e) {
                if (failure == null) {
                    failure = e;
                }
                finished += skipRest(taken, total);
            } finally {
                if (done.addAndGet(finished) >= total) {
                    LockSupport.unpark(waiting);
                }
            }
            s = state.get();
        }
    }

    /**
     * About this many chunks per thread at most: small enough that a thread held up (another process on its core)
     * holds the call back by a 16th of its share, large enough to stream long runs of rows.
     */
    static final int CHUNKS_PER_THREAD = 16;

    /**
     * The smallest chunk in rows (at least one granule): the chunks shrink towards it at a call's end, so the threads
     * finish within a few microseconds of each other (a dozen rows of a decode product) instead of one waiting out
     * the other's last large chunk; each chunk costs a compare-and-set and a kernel call, which rules out single rows.
     * {@code -Dspanker.rows.smallestChunkRows} sets it; a value above any call's largest chunk gives session 12's
     * fixed chunks (for measuring one against the other in one build).
     */
    static final int SMALLEST_CHUNK_ROWS = Integer.getInteger("spanker.rows.smallestChunkRows", 16);

    /**
     * The end of the chunk starting at row {@code from} of {@code total} (a multiple of {@code granule} unless it is
     * {@code total}): a share of the rows not yet taken, {@code 1 / (2·threads)} of them (guided self-scheduling), at
     * most {@code largest} and at least {@code least} granules. A call's first chunks are its largest, its last few
     * its smallest: a thread that finds the rows gone waits at most for another's small last chunk. It depends on
     * {@code from} alone, so whichever thread takes a chunk, the chunks are the same.
     */
    static int chunkEnd(int from, int total, int granule, int largest, int least, int threads) {
        long left = ((long) total - from + granule - 1) / granule;
        long size = Math.min(largest, Math.max(least, left / (2L * threads)));
        return (int) Math.min(total, from + size * granule);
    }

    /** After a failure, takes every row of the call not yet taken; returns how many, counted as done. */
    private int skipRest(long s, int total) {
        long call = s & ~ROW_MASK;
        while (true) {
            long now = state.get();
            int from = (int) (now & ROW_MASK);
            if ((now & ~ROW_MASK) != call || from >= total) {
                return 0;
            }
            if (state.compareAndSet(now, call | total)) {
                return total - from;
            }
        }
    }

    private void helperLoop(int index) {
        long seen = 0;
        while (true) {
            if (tickets.get(index) == seen && !closed) {
                long start = System.nanoTime();
                long spin = spinNanos();
                for (long waited = 0; tickets.get(index) == seen && !closed && waited < spin;
                        waited = System.nanoTime() - start) {
                    pause(waited, spin);
                }
            }
            while (tickets.get(index) == seen && !closed) {
                LockSupport.park(this);
            }
            if (closed) {
                return;
            }
            seen = tickets.get(index);
            drain();
        }
    }

    /** How long a waiting thread spins now: {@link #SPIN_NANOS}, or less when the cores are oversubscribed. */
    static long spinNanos() {
        return OPEN_THREADS.get() <= CORES ? SPIN_NANOS : SHORT_SPIN_NANOS;
    }

    /** The threads of the open executors of more than one thread. */
    static int openThreads() {
        return OPEN_THREADS.get();
    }

    /**
     * One round of a wait of {@code spin} nanoseconds, {@code waited} of them gone: the CPU's spin-wait hint for the
     * first quarter, then yields, so that on a loaded machine a thread of this executor that is runnable on the same
     * core (the helper whose chunk the caller waits for) gets it; on an idle core a yield returns at once.
     */
    private static void pause(long waited, long spin) {
        if (waited < spin / 4) {
            for (int i = 0; i < 16; i++) {
                Thread.onSpinWait();
            }
        } else {
            Thread.yield();
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (counted.getAndSet(CLOSED) == COUNTED) {
            OPEN_THREADS.addAndGet(-threads);
        }
        for (Thread helper : helpers) {
            LockSupport.unpark(helper);
        }
    }
}
