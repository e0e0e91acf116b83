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
}
