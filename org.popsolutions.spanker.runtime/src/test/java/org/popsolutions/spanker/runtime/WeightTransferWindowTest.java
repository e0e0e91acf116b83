package org.popsolutions.spanker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardGroup;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.CardMemory;
import org.popsolutions.spanker.api.card.ForwardingCard;
import org.popsolutions.spanker.api.card.PreparedJob;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.runtime.LoadProgress;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.ManualPlans;
import org.popsolutions.spanker.scheduler.collective.ScheduledCollectives;

/**
 * The load's window the plan's load time is compared with ({@link PlanExecutor#weightTransferNanos()}) holds the
 * weights' writes and the cards' answer to the last of them, and none of the host's preparation before them. The
 * clock here is moved by the cards' calls only (an ALLOC a millisecond, a write a nanosecond a byte, the settling
 * MEMORY request 7 ns), so the window's length says exactly which calls fell inside it. Session 11 compared the
 * whole load, the host's file reading, placement, 103 ALLOC round trips and program building included (290 ms real
 * at time dilation 7, divided by 7), with a prediction of the transfer alone: the tiny preset's 1.13x on one card. The
 * programs prepared beside the transfer on another thread are not in it either (on the mock, its JIT warm-up: a
 * first version of the window waited for them, 4.4 s of "transfer" against 0.38 s predicted).
 */
class WeightTransferWindowTest {
    static final ScheduledCollectives COLLECTIVES = TestSupport.engine();
    static final int CONTEXT = 32;
    static final long ALLOC_NANOS = 1_000_000;
    static final long MEMORY_NANOS = 7;
    static final long PREPARE_WAIT_SECONDS = 20;

    @AfterAll
    static void stop() {
        TestSupport.stop(COLLECTIVES);
    }

    /** Cards whose every allocation, write and memory report moves {@link #clock} by its modelled cost. */
    static final class ClockedCards implements CardGroup {
        final AtomicLong clock = new AtomicLong(1_000_000_000L);
        final CardGroup inner;
        final List<SailCard> cards = new ArrayList<>();
        long allocations;
        final CountDownLatch settled;
        volatile boolean preparedBeforeTheWeightsSettled;

        ClockedCards(Topology topology) {
            inner = TestSupport.cards().open(new CardGroupSpec(topology, null, 1));
            settled = new CountDownLatch(topology.cardCount());
            for (SailCard card : inner.cards()) {
                cards.add(new ForwardingCard() {
                    @Override
                    public SailCard delegate() {
                        return card;
                    }

                    @Override
                    public CardBuffer allocate(long bytes, String purpose) {
                        clock.addAndGet(ALLOC_NANOS);
                        allocations++;
                        return card.allocate(bytes, purpose);
                    }

                    @Override
                    public void write(CardBuffer buffer, long offset, ByteBuffer source) {
                        clock.addAndGet(source.remaining());
                        card.write(buffer, offset, source);
                    }

                    @Override
                    public void writeFloats(CardBuffer buffer, long offset, float[] source, int from, int count) {
                        clock.addAndGet((long) count * Float.BYTES);
                        card.writeFloats(buffer, offset, source, from, count);
                    }

                    @Override
                    public CardMemory memory() {
                        clock.addAndGet(MEMORY_NANOS);
                        CardMemory m = card.memory();
                        settled.countDown();
                        return m;
                    }
                });
            }
        }

        @Override
        public Topology topology() {
            return inner.topology();
        }

        /**
         * Preparing programs runs beside the transfer, on another host thread, and may take long (the mock waits here
         * for its JIT warm-up, seconds): this one waits until every card has answered the settling request, so a load
         * that waited for it before closing its window would only go on after {@link #PREPARE_WAIT_SECONDS}.
         */
        @Override
        public PreparedJob prepare(List<Program> programs) {
            try {
                if (!settled.await(PREPARE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                    preparedBeforeTheWeightsSettled = true;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return inner.prepare(programs);
        }

        @Override
        public List<SailCard> cards() {
            return cards;
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    private static void windowHoldsTheWeightsAndTheLastAnswerOnly(Plan plan, int cardCount,
            CollectiveAlgorithm algorithm) {
        GgufFile file = DecodeWarmUpTest.golden();
        ClockedCards cards = new ClockedCards(TestSupport.topology(TopologyKind.RING, cardCount));
        long before = cards.clock.get();
        try (PlanExecutor executor = DecodeWarmUpTest.load(0, () -> new PlanExecutor(file, plan, cards, COLLECTIVES,
                new PlanExecutor.Options(DotMode.GGML, 1, CONTEXT, algorithm), null, LoadProgress.NONE,
                cards.clock::get))) {
            long[] weights = executor.weightBytesPerCard();
            long holding = Arrays.stream(weights).filter(w -> w > 0).count();
            assertEquals(cardCount, holding, "every card holds weights");
            assertEquals(Arrays.stream(weights).sum() + holding * MEMORY_NANOS, executor.weightTransferNanos(),
                    "every weight byte and each card's last answer, nothing else");
            assertTrue(!cards.preparedBeforeTheWeightsSettled, "the window closed without waiting for the programs"
                    + " prepared beside the transfer");
            long load = cards.clock.get() - before;
            assertTrue(cards.allocations > 10, cards.allocations + " allocations");
            assertTrue(load - executor.weightTransferNanos() >= cards.allocations * ALLOC_NANOS,
                    "the allocations are the host's preparation, outside the window");
        }
    }

    @Test
    void oneCardsWindowHoldsItsWeightsAndItsLastAnswer() {
        GgufFile file = DecodeWarmUpTest.golden();
        windowHoldsTheWeightsAndTheLastAnswerOnly(ManualPlans.singleCard(GgufModelReader.shapeOf(file), CONTEXT), 1,
                CollectiveAlgorithm.AUTO);
    }

    @Test
    void tensorParallelCardsShareOneWindow() {
        GgufFile file = DecodeWarmUpTest.golden();
        windowHoldsTheWeightsAndTheLastAnswerOnly(ManualPlans.tensorParallel(GgufModelReader.shapeOf(file), 2,
                CONTEXT), 2, CollectiveAlgorithm.RING);
    }
}
