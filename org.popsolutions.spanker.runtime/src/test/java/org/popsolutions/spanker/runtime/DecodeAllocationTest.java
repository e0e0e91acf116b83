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
 * Decode allocates (almost) nothing per token: the bytes allocated by every thread of the JVM (the host's, the card
 * workers', the row threads') over many decode steps, after warm-up, stay within a small bound per token. What is
 * left is counted, not hidden: the program submission's completion future and the host-link bookkeeping.
 */
class DecodeAllocationTest {
    /**
     * Bytes per token the whole JVM may allocate while decoding on one card with two row threads: measured 481 (the
     * program submission's completion future and the host-link step write and logits read); before this session's
     * changes (a prepared activation, row tasks and futures per product) several kilobytes per product.
     */
    static final long BUDGET_PER_TOKEN = 1024;

    @Test
    void decodeStepsAllocateAlmostNothing() {
        ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        assumeTrue(bean instanceof com.sun.management.ThreadMXBean, "this JVM does not count allocations per thread");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
        ScheduledCollectives engine = TestSupport.engine();
        GgufFile file = GgufReader.open(GoldenModels.model("tiny-llama-q8_0.gguf"));
        ModelShape shape = GgufModelReader.shapeOf(file);
        Plan plan = ManualPlans.singleCard(shape, 256);
        try (PlanExecutor executor = new PlanExecutor(file, plan, TestSupport.topology(TopologyKind.RING, 1),
                TestSupport.cards(), engine, new PlanExecutor.Options(DotMode.GGML, 2, 256, CollectiveAlgorithm.AUTO))) {
            float[] logits = new float[executor.config().vocabulary()];
            int position = 0;
            for (; position < 100; position++) {
                executor.forward(1 + position % 7, position, logits);
            }
            // the least of three rounds: a JIT compilation or a thread the JVM starts meanwhile is not decode's
            long perToken = Long.MAX_VALUE;
            for (int round = 0; round < 3; round++) {
                int tokens = 50;
                long before = allocated(threads);
                for (int i = 0; i < tokens; i++, position++) {
                    executor.forward(1 + position % 7, position, logits);
                }
                perToken = Math.min(perToken, (allocated(threads) - before) / tokens);
            }
            assertTrue(perToken <= BUDGET_PER_TOKEN, "decode allocated " + perToken + " bytes per token");
        } finally {
            TestSupport.stop(engine);
        }
    }

    private static long allocated(com.sun.management.ThreadMXBean threads) {
        long sum = 0;
        for (long a : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            sum += Math.max(0, a);
        }
        return sum;
    }
}
