package org.popsolutions.spanker.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.ManualPlans;
import org.popsolutions.spanker.scheduler.collective.ScheduledCollectives;

/**
 * Decode allocates nothing per token: the bytes allocated by the threads that decode (the host's, the card workers',
 * the row threads') over many decode steps, after warm-up, are zero. The mock card group's prepared job re-arms each
 * card's completion instead of making a future per token (api.card 1.2 {@code CardGroup.prepare}); host-link
 * transfers of a step's few bytes copy value by value and find their buffer without boxing its handle.
 */
class DecodeAllocationTest {
    /**
     * Bytes per token the decoding threads may allocate while decoding on one card with two row threads: none (was
     * 481 with a completion future per submission and the host-link bookkeeping; several kilobytes per product before
     * that).
     */
    static final long BUDGET_PER_TOKEN = 0;

    /**
     * Also at the positions where a decode step's attention first reads more cache rows (64, 128: its kept copy of the
     * rows grew there by doubling until it was sized once to the cache's rows at the first step): the measured steps
     * run positions 41 to 140 once, after the steps up to 40 were run until they allocate nothing. Attempted up to three
     * times, each on a new executor (a JIT deoptimization during the one measured pass is not decode's).
     */
    @Test
    void decodeStepsAllocateNothing() {
        ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        assumeTrue(bean instanceof com.sun.management.ThreadMXBean, "this JVM does not count allocations per thread");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
        ScheduledCollectives engine = TestSupport.engine();
        GgufFile file = GgufReader.open(GoldenModels.model("tiny-llama-q8_0.gguf"));
        ModelShape shape = GgufModelReader.shapeOf(file);
        Plan plan = ManualPlans.singleCard(shape, 256);
        try {
            long perToken = Long.MAX_VALUE;
            String where = "";
            for (int attempt = 0; attempt < 3 && perToken > BUDGET_PER_TOKEN; attempt++) {
                try (PlanExecutor executor = new PlanExecutor(file, plan, TestSupport.topology(TopologyKind.RING, 1),
                        TestSupport.cards(), engine, new PlanExecutor.Options(DotMode.GGML, 2, 256,
                                CollectiveAlgorithm.AUTO))) {
                    float[] logits = new float[executor.config().vocabulary()];
                    // positions 0..40 again and again (the KV cache rewritten) until a pass allocates nothing: a JIT
                    // compilation meanwhile is not decode's, and on a loaded machine C2 may finish decode's methods late
                    long warm = Long.MAX_VALUE;
                    for (int round = 0; round < 20 && warm > BUDGET_PER_TOKEN; round++) {
                        StringBuilder each = new StringBuilder();
                        warm = allocated(threads, executor, logits, 0, 41, each) / 41;
                        where = " (warming up)" + each;
                    }
                    if (warm > BUDGET_PER_TOKEN) {
                        perToken = warm;
                        continue;
                    }
                    StringBuilder each = new StringBuilder();
                    perToken = allocated(threads, executor, logits, 41, 141, each) / 100;
                    where = each.toString();
                }
            }
            assertTrue(perToken <= BUDGET_PER_TOKEN, "decode allocated " + perToken + " bytes per token:" + where);
        } finally {
            TestSupport.stop(engine);
        }
    }

    /**
     * Bytes allocated by the threads decode runs on (this one, the host's, the mock cards' workers and their row
     * threads, "spanker-...") over the steps at positions [from, to); each thread's share appended to {@code each}.
     */
    private static long allocated(com.sun.management.ThreadMXBean threads, PlanExecutor executor, float[] logits,
            int from, int to, StringBuilder each) {
        long[] ids = threads.getAllThreadIds();
        long[] before = threads.getThreadAllocatedBytes(ids);
        // this thread's own count read apart, without the arrays the other counts come in
        long hostBefore = threads.getCurrentThreadAllocatedBytes();
        for (int position = from; position < to; position++) {
            executor.forward(1 + position % 7, position, logits);
        }
        long hostAfter = threads.getCurrentThreadAllocatedBytes();
        long[] after = threads.getThreadAllocatedBytes(ids);
        long sum = hostAfter - hostBefore;
        each.append(" host=").append(sum);
        for (int t = 0; t < ids.length; t++) {
            java.lang.management.ThreadInfo info = threads.getThreadInfo(ids[t]);
            if (info != null && info.getThreadName().startsWith("spanker-") && after[t] > before[t]) {
                sum += after[t] - before[t];
                each.append(' ').append(info.getThreadName()).append('=').append(after[t] - before[t]);
            }
        }
        return sum;
    }
}
