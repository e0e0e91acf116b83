package org.popsolutions.spanker.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.OutOfCardMemoryException;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.LlamaConfig;
import org.popsolutions.spanker.model.llama.ManualPlans;
import org.popsolutions.spanker.scheduler.collective.ScheduledCollectives;

/**
 * The executor reaches the cards only through the card runtime SPI: a recording device between them shows every
 * weight byte going over host-link writes, the hidden state going card to card over link ops, the logits (and the
 * output head's input, for the non-finite check) coming back over host-link reads, and nothing else crossing per
 * token — so no card's share is computed on the host.
 */
class OneRoadTest {
    static final ScheduledCollectives COLLECTIVES = TestSupport.engine();

    @AfterAll
    static void stop() {
        TestSupport.stop(COLLECTIVES);
    }

    static GgufFile golden() {
        return GgufReader.open(GoldenModels.model("tiny-llama-q8_0.gguf"));
    }

    /** Bytes of the model's weights as the cards hold them: norms go as float32. */
    static long modelBytes(GgufFile file) {
        long total = 0;
        for (GgufTensorInfo t : file.tensors()) {
            boolean norm = t.name().endsWith("norm.weight");
            total += norm ? 4L * t.rowLength() * t.rows() : t.byteSize();
        }
        return total;
    }

    @Test
    void aPipelineRunMovesWeightsByHostLinkWritesActivationsByLinksAndLogitsByReads() {
        GgufFile file = golden();
        LlamaConfig config = LlamaConfig.of(file);
        ModelShape shape = GgufModelReader.shapeOf(file);
        // embedding on card 0, the first half of the blocks on card 1, the rest on card 3 (two hops away, through
        // card 2), the head's rows on cards 0 and 2
        int[][] blocks = new int[config.layers()][];
        for (int l = 0; l < blocks.length; l++) {
            blocks[l] = new int[] {l < blocks.length / 2 ? 1 : 3};
        }
        Plan plan = ManualPlans.build(shape, 4, TopologyKind.RING, blocks, 0, List.of(0, 2), 64);
        RecordingCards recording = new RecordingCards(TestSupport.cards());
        int tokens = 5;
        float[][] logits = new float[tokens][];
        // without the load's warm-up, whose decode steps write tokens and clear the KV cache rows they wrote
        try (PlanExecutor executor = DecodeWarmUpTest.load(0, () -> new PlanExecutor(file, plan,
                TestSupport.topology(TopologyKind.RING, 4), recording, COLLECTIVES,
                new PlanExecutor.Options(DotMode.GGML, 1, 64, CollectiveAlgorithm.AUTO)))) {
            long placed = recording.hostWriteBytes();
            long held = java.util.Arrays.stream(executor.weightBytesPerCard()).sum();
            assertEquals(held, placed, "every byte the cards hold came over a host-link write");
            // each tensor once, except the output norm, which each of the two output cards holds
            long outputNorm = 4L * config.embedding();
            long tiedHead = config.tiedOutput() ? config.vocabulary() * GgmlType.Q8_0.bytesFor(config.embedding()) : 0;
            assertEquals(modelBytes(file) + outputNorm + tiedHead, placed, "every weight byte of the model");
            recording.reset();
            for (int pos = 0; pos < tokens; pos++) {
                logits[pos] = executor.forward(pos + 1, pos);
            }
        }
        int cardsWithWork = 4;
        assertEquals((long) tokens * cardsWithWork * 8, recording.hostWriteBytes(),
                "per token the host writes only the token and its position to each card");
        assertEquals((long) tokens * (config.vocabulary() + config.embedding()) * Float.BYTES,
                recording.hostReadBytes(), "per token the host reads only the logits and the head's input (checked"
                        + " for NaN, which the head's activation quantization would hide)");
        // 0 -> 1 (embedding to the first blocks), 1 -> 3 through 2, 3 -> 0 and 3 -> 2 (the head)
        assertEquals((long) tokens * 4, recording.sends(), "four hand-offs per token, each one link send");
        assertEquals((long) tokens * 4 * config.embedding() * Float.BYTES, recording.sendBytes());
        assertEquals(tokens, recording.ops(Op.Forward.class), "card 2 passes the 1 -> 3 hand-off on");
        assertEquals((long) tokens * (7 * config.layers() + 2), recording.ops(Op.MatMul.class),
                "every product ran on a card: seven per block, one per head shard");
        // the same logits as the one-card run of the same model
        try (PlanExecutor one = Llamas.singleCard(TestSupport.cards(), file, DotMode.GGML, 1)) {
            for (int pos = 0; pos < tokens; pos++) {
                assertArrayEquals(one.forward(pos + 1, pos), logits[pos]);
            }
        }
    }

    @Test
    void aTensorParallelRunJoinsItsBlocksWithLinkOpsAndStillOnlyReadsLogits() {
        GgufFile file = golden();
        LlamaConfig config = LlamaConfig.of(file);
        Plan plan = ManualPlans.tensorParallel(GgufModelReader.shapeOf(file), 4, 64);
        RecordingCards recording = new RecordingCards(TestSupport.cards());
        try (PlanExecutor executor = new PlanExecutor(file, plan, TestSupport.topology(TopologyKind.RING, 4),
                recording, COLLECTIVES, new PlanExecutor.Options(DotMode.GGML, 1, 64, CollectiveAlgorithm.RING))) {
            recording.reset();
            executor.forward(1, 0);
        }
        assertEquals(4 * 8, recording.hostWriteBytes());
        assertEquals((long) (config.vocabulary() + config.embedding()) * Float.BYTES, recording.hostReadBytes());
        // the embedding's hidden state handed from card 0 to the three others, then per block two ring
        // allreduces of 2(p-1) steps with p sends each
        assertEquals(3 + (long) config.layers() * 2 * 2 * 3 * 4, recording.sends());
    }

    @Test
    void aPlacementThatDoesNotFitNamesTheCard() {
        GgufFile file = golden();
        Plan plan = ManualPlans.pipeline(GgufModelReader.shapeOf(file), 2, new int[] {0, 1}, 64);
        Topology small = new Topology(TopologyKind.RING, List.of(new Card(0, "mock0", "mock", 1L << 30),
                new Card(1, "mock1", "mock", 4096)), TestSupport.topology(TopologyKind.RING, 2).links());
        OutOfCardMemoryException e = assertThrows(OutOfCardMemoryException.class, () -> new PlanExecutor(file, plan,
                small, TestSupport.cards(), COLLECTIVES, new PlanExecutor.Options(DotMode.GGML, 1, 64,
                        CollectiveAlgorithm.AUTO)));
        assertEquals(1, e.card());
        assertTrue(e.getMessage().startsWith("card 1 cannot hold"), e.getMessage());
    }

    @Test
    void aTensorParallelGroupsAllReduceRunsOnItsOwnCardsOnly() {
        GgufFile file = golden();
        LlamaConfig config = LlamaConfig.of(file);
        ModelShape shape = GgufModelReader.shapeOf(file);
        // every block tensor-parallel over cards 1 and 2 of a 4-card ring; the embedding and the head on card 1
        Plan plan = ManualPlans.build(shape, 4, TopologyKind.RING, new int[][] {{1, 2}, {1, 2}}, 1, List.of(1), 64);
        RecordingCards recording = new RecordingCards(TestSupport.cards());
        float[] logits;
        try (PlanExecutor executor = new PlanExecutor(file, plan, TestSupport.topology(TopologyKind.RING, 4),
                recording, COLLECTIVES, new PlanExecutor.Options(DotMode.GGML, 1, 64, CollectiveAlgorithm.RING))) {
            recording.reset();
            logits = executor.forward(1, 0);
        }
        for (int c : new int[] {0, 3}) {
            assertEquals(List.of(), recording.recorders.get(c).opsRun, "card " + c + " is outside the group");
            assertEquals(0, recording.recorders.get(c).writes, "card " + c + " gets nothing per token");
        }
        // the hidden state handed from card 1 to card 2 once, then per block two ring allreduces of 2 cards:
        // 2(p-1) = 2 steps of p = 2 sends each
        assertEquals(1 + (long) config.layers() * 2 * 2 * 2, recording.sends());
        try (PlanExecutor one = Llamas.singleCard(TestSupport.cards(), file, DotMode.GGML, 1)) {
            float[] expected = one.forward(1, 0);
            double scale = 0;
            double diff = 0;
            for (int i = 0; i < expected.length; i++) {
                scale = Math.max(scale, Math.abs(expected[i]));
                diff = Math.max(diff, Math.abs(expected[i] - logits[i]));
            }
            assertTrue(diff / scale <= PlanExecutorTest.tolerance(DotMode.GGML), diff / scale + " relative");
        }
    }

    @Test
    void anEmbeddingThePlanReplicatesIsLookedUpOnEachOfItsCards() {
        GgufFile file = golden();
        ModelShape shape = GgufModelReader.shapeOf(file);
        Plan tp = ManualPlans.tensorParallel(shape, 2, 64);
        List<org.popsolutions.spanker.api.plan.TensorPlacement> tensors = new java.util.ArrayList<>();
        for (org.popsolutions.spanker.api.plan.TensorPlacement t : tp.tensors()) {
            tensors.add(!t.tensor().equals("token_embd.weight") ? t
                    : new org.popsolutions.spanker.api.plan.TensorPlacement(t.tensor(), -1,
                            org.popsolutions.spanker.api.strategy.Strategy.REPLICATE, "whole", List.of(0, 1),
                            List.of(t.bytesPerCard().get(0), t.bytesPerCard().get(0))));
        }
        Plan replicated = new Plan(tp.strategy(), tp.model(), tp.cards(), tp.cabling(), tp.layers(), tensors,
                tp.cardLoads(), 0, tp.outputCards(), 0, 0, 0, 0, List.of("embedding on both cards"));
        float[][] logits = new float[2][];
        long[] sends = new long[2];
        long[] lookups = new long[2];
        long[] held = new long[2];
        Plan[] plans = {tp, replicated};
        for (int i = 0; i < 2; i++) {
            RecordingCards recording = new RecordingCards(TestSupport.cards());
            try (PlanExecutor executor = new PlanExecutor(file, plans[i], TestSupport.topology(TopologyKind.RING, 2),
                    recording, COLLECTIVES, new PlanExecutor.Options(DotMode.GGML, 1, 64, CollectiveAlgorithm.RING))) {
                held[i] = executor.weightBytesPerCard()[1];
                recording.reset();
                logits[i] = executor.forward(7, 0);
                sends[i] = recording.sends();
                lookups[i] = recording.ops(Op.EmbeddingRow.class);
            }
        }
        assertArrayEquals(logits[0], logits[1], "the same hidden state either way");
        assertEquals(1, lookups[0]);
        assertEquals(2, lookups[1], "each card of the first group looks the token up");
        assertEquals(sends[0] - 1, sends[1], "no hand-off of the embedded token");
        assertEquals(shape.tensor("token_embd.weight").orElseThrow().bytes(), held[1] - held[0],
                "card 1 holds the table too");
    }
}
