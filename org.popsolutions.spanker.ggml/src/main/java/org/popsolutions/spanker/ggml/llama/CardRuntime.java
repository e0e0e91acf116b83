package org.popsolutions.spanker.ggml.llama;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.MatVec;
import org.popsolutions.spanker.ggml.kernel.RowExecutor;

/**
 * One mock card: the weights the plan gives it, its KV caches, its copy of the hidden state, and a thread of its
 * own (plus row workers) so the cards of a tensor-parallel block compute at the same time (the coordinating
 * thread computes for one of them itself).
 */
final class CardRuntime implements AutoCloseable {
    final int index;
    final DotMode mode;
    final RowExecutor rows;
    final MatVec matVec;
    final ExecutorService thread;
    final Map<Integer, BlockShard> blocks = new HashMap<>();
    Matrix embedding;
    float[] outputNorm;
    Matrix head;
    int headFirstRow;
    float[] hidden;
    /** Written by whichever thread computes for the card (never two at once); Future.get orders the accesses. */
    long computeNanos;

    CardRuntime(int index, DotMode mode, int threads, Kernels kernels) {
        this.index = index;
        this.mode = mode;
        this.rows = new RowExecutor(threads);
        this.matVec = new MatVec(kernels, rows);
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "spanker-card-" + index);
            t.setDaemon(true);
            return t;
        });
    }

    long weightBytes() {
        long bytes = blocks.values().stream().mapToLong(BlockShard::weightBytes).sum();
        if (embedding != null) {
            bytes += embedding.bytes();
        }
        if (outputNorm != null) {
            bytes += (long) outputNorm.length * Float.BYTES;
        }
        if (head != null && head != embedding) {
            bytes += head.bytes();
        }
        return bytes;
    }

    long kvCacheBytes() {
        return blocks.values().stream().mapToLong(BlockShard::kvCacheBytes).sum();
    }

    @Override
    public void close() {
        thread.shutdownNow();
        rows.close();
    }
}
