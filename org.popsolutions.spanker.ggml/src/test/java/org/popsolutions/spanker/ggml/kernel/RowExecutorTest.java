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
}
