package org.popsolutions.spanker.device.mock.card;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.PreparedBatch;
import org.popsolutions.spanker.ggml.ops.CardOps;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * The card's Java arithmetic (attention, norms, rope, SwiGLU, the activation quantization) run on small private data
 * once per JVM, on a background thread started by the first host-link write of bytes to a mock card (a model's
 * weights; a collective stages floats and does not start it): the JIT compiles it while the model's weights are
 * loaded (one thread reads them; the other core is free), not during the prompt's first pass, which otherwise runs it
 * interpreted first (its Vector API code is then slower by a hundred times) with the compiler threads taking the
 * cores from the card's row threads. Preparing a job waits for it ({@link MockCardGroup#prepare}): a model's load
 * prepares its decode job (and a large model's prompt pass), so the load ends once it has ended, and its time shows in
 * the load's; the load's own decode steps then run compiled arithmetic. Nothing of it reaches a card's memory or
 * results.
 */
public final class JitWarmup {
    private static final AtomicBoolean STARTED = new AtomicBoolean();
    /** Counted down when the warm-up's thread has ended, however it ended. */
    private static final CountDownLatch ENDED = new CountDownLatch(1);
    /** Rounds of every op: past the JIT's thresholds for its optimizing compiler (thousands of calls). */
    static final int ROUNDS = 2_000;

    private JitWarmup() {
    }

    /** Starts the warm-up, once per JVM (later calls do nothing; none with {@code -Dspanker.mock.warmup=false}). */
    public static void start() {
        if (STARTED.get()) {
            return; // called at every byte write: the common case reads one flag
        }
        if (!Boolean.parseBoolean(System.getProperty("spanker.mock.warmup", "true"))
                || !STARTED.compareAndSet(false, true)) {
            return;
        }
        // not a "spanker-" thread: those are the ones that run cards and decode (DecodeAllocationTest counts them)
        Thread thread = new Thread(() -> {
            try {
                run();
            } catch (RuntimeException | LinkageError e) {
                // best effort: a warm-up that cannot run leaves the compiling to the first prompt, as without it
            } finally {
                ENDED.countDown();
            }
        }, "mock-card-jit-warmup");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        try {
            thread.start();
        } catch (RuntimeException | Error e) {
            ENDED.countDown(); // no warm-up to wait for
            throw e;
        }
    }

    /**
     * Waits until the warm-up has ended, at most {@code timeoutMillis}; at once when none was started in this JVM (or
     * it was switched off). Whether it has ended.
     */
    static boolean awaitEnd(long timeoutMillis) {
        if (!STARTED.get()) {
            return true;
        }
        try {
            return ENDED.await(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Whether a warm-up was started in this JVM and has ended. */
    static boolean ended() {
        return STARTED.get() && ENDED.getCount() == 0;
    }

    static void run() {
        // a small llama's shapes: head dimension 64, eight query heads per kv head, rows of 512 values
        int d = 64;
        int group = 8;
        int kvWidth = 2 * d;
        int positions = 96;
        int length = 512;
        SplittableRandom random = new SplittableRandom(1);
        float[] cache = new float[positions * kvWidth];
        for (int i = 0; i < cache.length; i++) {
            cache[i] = (float) random.nextGaussian();
        }
        FloatBuffer keys = FloatBuffer.wrap(cache);
        float[] x = new float[4 * length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        float[] q = new float[group * d];
        System.arraycopy(x, 0, q, 0, q.length);
        float[] out = new float[x.length];
        float[] scores = new float[group * positions];
        float[] cos = new float[d / 2];
        float[] sin = new float[d / 2];
        PreparedBatch q4 = PreparedBatch.workspace(GgmlType.Q4_0, DotMode.GGML, length, 4);
        PreparedBatch q8k = PreparedBatch.workspace(GgmlType.Q4_K, DotMode.GGML, length, 4);
        float sink = 0;
        // each op in a loop of its own, the cheap ones first: each reaches the compiler's thresholds on its own
        for (int round = 0; round < ROUNDS; round++) {
            CardOps.rmsNorm(x, 0, x, length, out, 0, length, 1e-5f);
            CardOps.ropeAngles(round % positions, 10000f, d, cos, sin);
            CardOps.rope(out, 0, length / d, d, cos, sin);
            CardOps.add(x, 0, out, 0, out, 0, length);
            sink += out[round % length];
        }
        for (int round = 0; round < ROUNDS; round++) {
            CardOps.swiGlu(x, 0, x, length, out, 0, length);
            sink += out[round % length];
        }
        for (int round = 0; round < ROUNDS / 4; round++) {
            q4.refill(x, 0, 4);
            q8k.refill(x, 0, 4);
        }
        for (int round = 0; round < ROUNDS; round++) {
            // 32 to 47 positions: the vector loops and their tails, each call short
            int position = 31 + round % 16;
            Arrays.fill(out, 0, group * d, 0f);
            CardOps.attentionHeads(q, 0, group, keys, keys, kvWidth, d, d, position, 0.125f, scores, 0, positions, out,
                    0);
            sink += out[round % (group * d)];
        }
        if (sink == 12345.678f) {
            System.out.print(""); // keeps the results live
        }
    }
}
