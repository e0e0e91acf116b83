package org.popsolutions.spanker.ggml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class RowExecutorTest {
    @Test
    void everyRowRunsExactlyOnce() {
        for (int threads : new int[] {1, 2, 3, 8}) {
            try (RowExecutor executor = new RowExecutor(threads)) {
                for (int rows : new int[] {0, 1, 2, 7, 100, 4096, 4099}) {
                    AtomicIntegerArray seen = new AtomicIntegerArray(rows);
                    executor.forRows(rows, (from, to) -> {
                        for (int r = from; r < to; r++) {
                            seen.incrementAndGet(r);
                        }
                    });
                    for (int r = 0; r < rows; r++) {
                        assertEquals(1, seen.get(r), threads + " threads, " + rows + " rows: row " + r);
                    }
                }
            }
        }
    }

    /** Chunks of whole granules (the range's end excepted): a 32-row tile is never split between two threads. */
    @Test
    void chunksAreWholeGranulesAndCoverEveryRowOnce() {
        for (int threads : new int[] {1, 2, 3}) {
            try (RowExecutor executor = new RowExecutor(threads)) {
                for (int rows : new int[] {1, 31, 32, 33, 256, 5632, 5650}) {
                    for (int granule : new int[] {1, 8, 32}) {
                        AtomicIntegerArray seen = new AtomicIntegerArray(rows);
                        java.util.Queue<String> badChunks = new java.util.concurrent.ConcurrentLinkedQueue<>();
                        executor.forRows(rows, granule, (from, to) -> {
                            if (from % granule != 0 || (to != rows && to % granule != 0) || to <= from) {
                                badChunks.add(from + ".." + to);
                            }
                            for (int r = from; r < to; r++) {
                                seen.incrementAndGet(r);
                            }
                        });
                        String what = threads + " threads, " + rows + " rows, granule " + granule;
                        assertEquals("[]", badChunks.toString(), what + ": chunks not on granule bounds");
                        for (int r = 0; r < rows; r++) {
                            assertEquals(1, seen.get(r), what + ": row " + r);
                        }
                    }
                }
            }
        }
        try (RowExecutor executor = new RowExecutor(2)) {
            assertThrows(IllegalArgumentException.class, () -> executor.forRows(10, 0, (from, to) -> { }));
        }
    }

    @Test
    void aFailingChunkFailsTheCall() {
        try (RowExecutor executor = new RowExecutor(3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> executor.forRows(1000,
                    (from, to) -> {
                        if (from <= 500 && 500 < to) {
                            throw new IllegalArgumentException("row 500");
                        }
                    }));
            assertEquals("row 500", e.getMessage());
            // and the executor still works afterwards
            AtomicIntegerArray seen = new AtomicIntegerArray(10);
            executor.forRows(10, (from, to) -> {
                for (int r = from; r < to; r++) {
                    seen.incrementAndGet(r);
                }
            });
            assertEquals(10, java.util.stream.IntStream.range(0, 10).map(seen::get).sum());
        }
    }

    /** Two callers at once on one executor (one runs on its own thread): every row of both exactly once. */
    @Test
    void concurrentCallersEachGetEveryRowOnce() throws Exception {
        try (RowExecutor executor = new RowExecutor(2)) {
            int rows = 5000;
            AtomicIntegerArray a = new AtomicIntegerArray(rows);
            AtomicIntegerArray b = new AtomicIntegerArray(rows);
            Thread other = new Thread(() -> {
                for (int i = 0; i < 200; i++) {
                    executor.forRows(rows, (from, to) -> {
                        for (int r = from; r < to; r++) {
                            b.incrementAndGet(r);
                        }
                    });
                }
            });
            other.start();
            for (int i = 0; i < 200; i++) {
                executor.forRows(rows, (from, to) -> {
                    for (int r = from; r < to; r++) {
                        a.incrementAndGet(r);
                    }
                });
            }
            other.join();
            for (int r = 0; r < rows; r++) {
                assertEquals(200, a.get(r), "caller 1, row " + r);
                assertEquals(200, b.get(r), "caller 2, row " + r);
            }
        }
    }

    /** A call hands its work to the helpers through fields: the calling thread allocates nothing per call. */
    @Test
    void aCallAllocatesNothing() {
        java.lang.management.ThreadMXBean bean = java.lang.management.ManagementFactory.getThreadMXBean();
        org.junit.jupiter.api.Assumptions.assumeTrue(bean instanceof com.sun.management.ThreadMXBean,
                "this JVM does not count allocated bytes per thread");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
        long[] sum = new long[1];
        RowExecutor.RowRange work = (from, to) -> {
            for (int r = from; r < to; r++) {
                sum[0] += r;
            }
        };
        try (RowExecutor executor = new RowExecutor(2)) {
            for (int i = 0; i < 2000; i++) {
                executor.forRows(4096, work); // warm up: compiled code allocates what the interpreter may not
            }
            long id = Thread.currentThread().getId();
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 1000; i++) {
                executor.forRows(4096, work);
            }
            long allocated = threads.getThreadAllocatedBytes(id) - before;
            org.junit.jupiter.api.Assertions.assertTrue(allocated < 1000 * 8,
                    "1000 calls allocated " + allocated + " bytes on the calling thread");
        }
    }

    /**
     * A helper that is not running (not yet scheduled, on a loaded machine) does not hold a call up: the caller takes
     * every chunk and returns. Once the helper runs, later calls still get every row exactly once.
     */
    @Test
    void aCallEndsWithItsLastRowNotWithItsLateHelpers() throws Exception {
        java.util.List<LateThread> held = new java.util.ArrayList<>();
        java.util.concurrent.ThreadFactory late = task -> {
            LateThread t = new LateThread(task);
            held.add(t);
            return t;
        };
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> {
            try (RowExecutor executor = new RowExecutor(2, late)) {
                Thread me = Thread.currentThread();
                for (int call = 0; call < 50; call++) {
                    AtomicIntegerArray seen = new AtomicIntegerArray(1000);
                    java.util.concurrent.atomic.AtomicBoolean elsewhere = new java.util.concurrent.atomic.AtomicBoolean();
                    executor.forRows(1000, (from, to) -> {
                        elsewhere.compareAndSet(false, Thread.currentThread() != me);
                        for (int r = from; r < to; r++) {
                            seen.incrementAndGet(r);
                        }
                    });
                    org.junit.jupiter.api.Assertions.assertFalse(elsewhere.get(), "a row ran on a helper not started");
                    for (int r = 0; r < 1000; r++) {
                        assertEquals(1, seen.get(r), "call " + call + ", row " + r);
                    }
                }
                assertEquals(1, held.size());
                held.get(0).startNow();
                everyRowOnce(executor, 2000);
            }
        });
    }

    /**
     * Calls back to back with small chunks, so helpers often come late to a call that has ended and the next has
     * begun: a chunk is only taken for the call whose work it runs (every row of every call exactly once).
     */
    @Test
    void helpersComingLateNeverRunAnotherCallsRows() {
        for (int threads : new int[] {2, 3}) {
            try (RowExecutor executor = new RowExecutor(threads)) {
                everyRowOnce(executor, 20_000);
            }
        }
    }

    /** A call from inside a chunk, on the calling thread or a helper, runs on its own thread alone, every row once. */
    @Test
    void aCallFromInsideAChunkRunsAlone() {
        try (RowExecutor executor = new RowExecutor(2)) {
            AtomicIntegerArray outer = new AtomicIntegerArray(64);
            AtomicIntegerArray inner = new AtomicIntegerArray(64 * 100);
            executor.forRows(64, (from, to) -> {
                for (int r = from; r < to; r++) {
                    outer.incrementAndGet(r);
                    int base = r * 100;
                    Thread self = Thread.currentThread();
                    executor.forRows(100, (a, b) -> {
                        org.junit.jupiter.api.Assertions.assertSame(self, Thread.currentThread());
                        for (int i = a; i < b; i++) {
                            inner.incrementAndGet(base + i);
                        }
                    });
                }
            });
            for (int r = 0; r < 64; r++) {
                assertEquals(1, outer.get(r), "outer row " + r);
            }
            for (int i = 0; i < 6400; i++) {
                assertEquals(1, inner.get(i), "inner row " + i);
            }
        }
    }

    /**
     * Helpers spin long only while the open executors' threads fit the cores: more (several cards of several threads
     * on a small machine) and a spinning helper would hold a core another card's thread has work for.
     */
    @Test
    void waitingThreadsSpinShortWhenTheExecutorsOversubscribeTheCores() {
        int cores = Runtime.getRuntime().availableProcessors();
        int before = RowExecutor.openThreads(); // executors other tests left open, if any
        try (RowExecutor first = new RowExecutor(cores + 1)) {
            assertEquals(before, RowExecutor.openThreads(), "an executor that has not run anything takes no core");
            everyRowOnce(first, 200);
            assertEquals(before + cores + 1, RowExecutor.openThreads());
            assertEquals(RowExecutor.SHORT_SPIN_NANOS, RowExecutor.spinNanos());
            everyRowOnce(first, 200);
            assertEquals(before + cores + 1, RowExecutor.openThreads(), "counted once");
            first.close(); // closing twice counts once
        }
        assertEquals(before, RowExecutor.openThreads());
        try (RowExecutor idle = new RowExecutor(cores + 1)) {
            assertEquals(before, RowExecutor.openThreads());
        }
        assertEquals(before, RowExecutor.openThreads(), "closing an executor that never ran counts nothing off");
        try (RowExecutor single = new RowExecutor(1)) {
            assertEquals(before, RowExecutor.openThreads(), "a one-thread executor has no helper to spin");
        }
        if (before + 2 <= cores) {
            try (RowExecutor two = new RowExecutor(2); RowExecutor idle = new RowExecutor(cores)) {
                everyRowOnce(two, 20);
                assertEquals(RowExecutor.SPIN_NANOS, RowExecutor.spinNanos(), "an idle executor beside it");
            }
        }
    }

    /**
     * A call's chunks shrink towards its end: the first is a 32nd of the rows (2 threads), the last ones the smallest
     * (16 rows), never growing on the way, so a thread that finds the rows gone waits for another's small last chunk,
     * not a 32nd of the call. The helper never starts here, so the caller takes every chunk and the sequence is the
     * whole call's.
     */
    @Test
    void chunksShrinkTowardsTheCallsEnd() throws Exception {
        java.util.concurrent.ThreadFactory never = LateThread::new;
        try (RowExecutor executor = new RowExecutor(2, never)) {
            for (int rows : new int[] {11264, 2560, 2048, 32000, 600}) {
                java.util.List<int[]> chunks = new java.util.ArrayList<>();
                executor.forRows(rows, (from, to) -> chunks.add(new int[] {from, to}));
                assertEveryRowOnceShrinking(rows, chunks, 1);
                assertEquals(Math.max(1, rows / 32), chunks.get(0)[1] - chunks.get(0)[0], rows + " rows: first chunk");
                int[] last = chunks.get(chunks.size() - 1);
                org.junit.jupiter.api.Assertions.assertTrue(last[1] - last[0] <= RowExecutor.SMALLEST_CHUNK_ROWS,
                        rows + " rows: last chunk " + (last[1] - last[0]));
            }
        }
    }

    /**
     * Fewer, larger chunks where asked (a packed product's: every chunk restarts its weight streams): the first a
     * quarter of a thread's share, none but the last below the smallest asked for, shrinking on the way.
     */
    @Test
    void chunksPerThreadAndTheSmallestChunkCanBeAskedFor() {
        java.util.concurrent.ThreadFactory never = LateThread::new;
        try (RowExecutor executor = new RowExecutor(2, never)) {
            for (int rows : new int[] {4096, 14336, 2048, 300}) {
                java.util.List<int[]> chunks = new java.util.ArrayList<>();
                executor.forRows(rows, 1, MatVec.PACKED_CHUNKS_PER_THREAD, MatVec.PACKED_SMALLEST_CHUNK_ROWS,
                        (from, to) -> chunks.add(new int[] {from, to}));
                assertEveryRowOnceShrinking(rows, chunks, MatVec.PACKED_SMALLEST_CHUNK_ROWS);
                assertEquals(Math.max(1, rows / (2 * MatVec.PACKED_CHUNKS_PER_THREAD)), chunks.get(0)[1],
                        rows + " rows: first chunk");
            }
        }
    }

    /**
     * Chunks as the threads took them: in order, every row once, never growing, and none but the last (or a first that
     * is the whole range's share) below {@code smallest}.
     */
    private static void assertEveryRowOnceShrinking(int rows, java.util.List<int[]> chunks, int smallest) {
        int expected = 0;
        int previous = Integer.MAX_VALUE;
        for (int[] c : chunks) {
            assertEquals(expected, c[0], rows + " rows: chunks in order, none missing or twice");
            int size = c[1] - c[0];
            org.junit.jupiter.api.Assertions.assertTrue(size <= previous || c[1] == rows,
                    rows + " rows: a chunk of " + size + " after one of " + previous);
            org.junit.jupiter.api.Assertions.assertTrue(size >= smallest || c[1] == rows || size == chunks.get(0)[1],
                    rows + " rows: a chunk of " + size + " below " + smallest);
            previous = size;
            expected = c[1];
        }
        assertEquals(rows, expected, rows + " rows: every row");
    }

    /**
     * The chunk rule alone, walked from row 0 as the threads would: whole granules but the last, every row once, the
     * sizes between the smallest and the largest and never growing, for ranges, granules and thread counts around the
     * edges (a range of one granule, a largest chunk of one granule, the smallest larger than the range's rest).
     */
    @Test
    void theChunkRuleCoversEveryRowOnceInWholeGranules() {
        for (int threads = 1; threads <= 4; threads++) {
            for (int granule : new int[] {1, 3, 8, 32}) {
                for (int total = 1; total <= 700; total += 7) {
                    int groups = (total + granule - 1) / granule;
                    int largest = Math.max(1, groups / (RowExecutor.CHUNKS_PER_THREAD * threads));
                    int least = Math.min(largest, Math.max(1, RowExecutor.SMALLEST_CHUNK_ROWS / granule));
                    String what = threads + " threads, granule " + granule + ", " + total + " rows";
                    int from = 0;
                    int previous = Integer.MAX_VALUE;
                    while (from < total) {
                        int to = RowExecutor.chunkEnd(from, total, granule, largest, least, threads);
                        org.junit.jupiter.api.Assertions.assertTrue(to > from, what + ": empty chunk at " + from);
                        org.junit.jupiter.api.Assertions.assertTrue(to == total || to % granule == 0,
                                what + ": chunk end " + to);
                        int size = (to - from + granule - 1) / granule;
                        org.junit.jupiter.api.Assertions.assertTrue(size <= largest, what + ": " + size + " granules");
                        org.junit.jupiter.api.Assertions.assertTrue(size >= least || to == total,
                                what + ": " + size + " granules before the end");
                        org.junit.jupiter.api.Assertions.assertTrue(size <= previous || to == total,
                                what + ": grew to " + size + " granules");
                        previous = size;
                        from = to;
                    }
                    assertEquals(total, from, what);
                }
            }
        }
    }

    /** A thread whose {@link #start} does nothing: the test starts it later. */
    private static final class LateThread extends Thread {
        LateThread(Runnable task) {
            super(task);
        }

        @Override
        public synchronized void start() {
        }

        void startNow() {
            super.start();
        }
    }

    /** {@code calls} calls of varying sizes (many chunks of one row), each checked to have run every row once. */
    private static void everyRowOnce(RowExecutor executor, int calls) {
        int[] counts = new int[97];
        for (int call = 0; call < calls; call++) {
            int rows = 2 + call % 95;
            int[] mine = counts;
            java.util.Arrays.fill(mine, 0);
            executor.forRows(rows, (from, to) -> {
                for (int r = from; r < to; r++) {
                    synchronized (mine) {
                        mine[r]++;
                    }
                }
            });
            for (int r = 0; r < counts.length; r++) {
                assertEquals(r < rows ? 1 : 0, counts[r], "call " + call + " of " + rows + " rows, row " + r);
            }
        }
    }
}
