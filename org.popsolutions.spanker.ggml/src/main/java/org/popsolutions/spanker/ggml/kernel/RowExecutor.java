package org.popsolutions.spanker.ggml.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Splits a range of rows into one contiguous slice per thread; the caller's thread takes the last slice.
 * One executor per model/benchmark (threads are daemons named {@code spanker-rows-N}), closed when done.
 */
public final class RowExecutor implements AutoCloseable {
    /** Work on rows [from, to). */
    @FunctionalInterface
    public interface RowRange {
        void run(int from, int to);
    }

    private final int threads;
    private final ExecutorService pool;

    public RowExecutor(int threads) {
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("thread count must be 1..1024, got " + threads);
        }
        this.threads = threads;
        AtomicInteger counter = new AtomicInteger();
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "spanker-rows-" + counter.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    public void forRows(int rows, RowRange work) {
        int slices = Math.min(threads, Math.max(1, rows));
        if (slices == 1) {
            work.run(0, rows);
            return;
        }
        List<Future<?>> pending = new ArrayList<>(slices - 1);
        for (int s = 0; s < slices - 1; s++) {
            int from = (int) ((long) rows * s / slices);
            int to = (int) ((long) rows * (s + 1) / slices);
            pending.add(pool.submit(() -> work.run(from, to)));
        }
        work.run((int) ((long) rows * (slices - 1) / slices), rows);
        for (Future<?> f : pending) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for row workers", e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException re) {
                    throw re;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException(cause);
            }
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
