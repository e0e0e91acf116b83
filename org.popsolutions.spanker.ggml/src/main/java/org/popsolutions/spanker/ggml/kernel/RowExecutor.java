package org.popsolutions.spanker.ggml.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a range of rows on several threads, the caller's included. The rows are handed out in chunks that each
 * thread takes as it becomes free, so a late-starting or descheduled thread (another process on the same core)
 * holds the others back by one chunk at most, not by a whole share. One executor per model/benchmark (threads
 * are daemons named {@code spanker-rows-N}), closed when done.
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
        if (threads == 1 || rows <= 1) {
            work.run(0, rows);
            return;
        }
        int helpers = Math.min(threads, rows) - 1;
        // about 16 chunks per thread: small enough to balance, large enough to stream long runs of rows
        int chunk = Math.max(1, rows / (16 * (helpers + 1)));
        AtomicInteger next = new AtomicInteger();
        Runnable drain = () -> {
            for (int from = next.getAndAdd(chunk); from < rows; from = next.getAndAdd(chunk)) {
                work.run(from, Math.min(rows, from + chunk));
            }
        };
        List<Future<?>> pending = new ArrayList<>(helpers);
        for (int s = 0; s < helpers; s++) {
            pending.add(pool.submit(drain));
        }
        Throwable failure = null;
        try {
            drain.run();
        } catch (RuntimeException | Error e) {
            failure = e;
            next.set(rows); // the helpers stop after their current chunk
        }
        for (Future<?> f : pending) {
            try {
                f.get();
            } catch (InterruptedException e) {
                next.set(rows);
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for row workers", e);
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause();
                }
            }
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error err) {
            throw err;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
