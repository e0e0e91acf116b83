package org.popsolutions.spanker.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.api.collective.CardCollectives;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.ManualPlans;
import org.popsolutions.spanker.model.llama.NonFiniteValues;
import org.popsolutions.spanker.model.llama.SmallModels;

/**
 * NaN and infinity are errors naming where they are, not token 0: ggml's activation quantization on the cards turns
 * a NaN into 0, so a NaN weight or hidden state would otherwise vanish into plausible logits. Every weight is scanned
 * as it streams to the cards; what finite weights can still produce (an overflow) is caught in the hidden state and
 * the logits.
 */
class NonFiniteWeightsTest {
    /** One Q8_0 row is one block of 34 bytes in the small model (32 columns). */
    private static final int ROW_BYTES = 34;
    private static final short HALF_NAN = 0x7e00;
    private static final short HALF_INFINITY = 0x7c00;

    /** The small SentencePiece model with the fp16 scale of {@code tensor}'s row {@code row} set to {@code bits}. */
    static GgufFile withScale(String tensor, int row, short bits) {
        SmallModels.Model model = SmallModels.sentencePiece().copy();
        ByteBuffer weights = ByteBuffer.allocate(model.data().get(tensor).capacity());
        weights.put(model.data().get(tensor).duplicate()).flip();
        weights.order(ByteOrder.LITTLE_ENDIAN).putShort(row * ROW_BYTES, bits);
        model.data().put(tensor, weights);
        return model.read();
    }

    /** The small model with every output-norm weight {@code value}: finite, but the normalized state overflows. */
    static GgufFile withOutputNorm(float value) {
        SmallModels.Model model = SmallModels.sentencePiece().copy();
        float[] norm = new float[SmallModels.EMBEDDING];
        Arrays.fill(norm, value);
        ByteBuffer bytes = ByteBuffer.allocate(norm.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(norm);
        model.data().put("output_norm.weight", bytes);
        return model.read();
    }

    private static PlanExecutor onTwoCards(GgufFile file, int[][] blockCards, List<Integer> outputCards,
            CardCollectives collectives) {
        Plan plan = ManualPlans.build(GgufModelReader.shapeOf(file), 2, TopologyKind.RING, blockCards, 0, outputCards,
                64);
        return new PlanExecutor(file, plan, TestSupport.topology(TopologyKind.RING, 2), TestSupport.cards(),
                collectives, new PlanExecutor.Options(DotMode.GGML, 1, 64, CollectiveAlgorithm.AUTO));
    }

    @Test
    void aNonFiniteNormWeightIsRefusedWhenTheModelIsPlaced() {
        SmallModels.Model m = SmallModels.sentencePiece().copy();
        float[] norm = new float[SmallModels.EMBEDDING];
        Arrays.fill(norm, 1f);
        norm[3] = Float.NaN;
        ByteBuffer bytes = ByteBuffer.allocate(norm.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(norm);
        m.data().put("output_norm.weight", bytes);
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> Llamas.singleCard(
                TestSupport.cards(), m.read(), DotMode.GGML, 1).close());
        assertTrue(e.getMessage().contains("output_norm.weight") && e.getMessage().contains("index 3"),
                e.getMessage());
    }

    @Test
    void aNonFiniteBlockScaleInAMatrixWeightIsRefusedWhenTheModelIsPlaced() {
        // a NaN scale in blk.0.attn_q.weight would reach the logits only as zeros after the next quantization
        for (DotMode mode : DotMode.values()) {
            InvalidModelException e = assertThrows(InvalidModelException.class, () -> Llamas.singleCard(
                    TestSupport.cards(), withScale("blk.0.attn_q.weight", 5, HALF_NAN), mode, 1).close());
            assertTrue(e.getMessage().contains("tensor blk.0.attn_q.weight holds a non-finite value (NaN at row 5,"
                    + " column 0)"), e.getMessage());
        }
        InvalidModelException inf = assertThrows(InvalidModelException.class, () -> Llamas.singleCard(
                TestSupport.cards(), withScale("blk.0.ffn_down.weight", 31, HALF_INFINITY), DotMode.GGML, 1).close());
        assertTrue(inf.getMessage().contains("blk.0.ffn_down.weight") && inf.getMessage().contains("at row 31"),
                inf.getMessage());
        InvalidModelException embedding = assertThrows(InvalidModelException.class, () -> Llamas.singleCard(
                TestSupport.cards(), withScale("token_embd.weight", 7, HALF_NAN), DotMode.GGML, 1).close());
        assertTrue(embedding.getMessage().contains("token_embd.weight") && embedding.getMessage().contains("row 7,"),
                embedding.getMessage());
    }

    @Test
    void theScanNamesTheFileRowWhenATensorIsSplitAcrossCards() {
        // the block's rows halved between two cards: row 20 is the second card's row 4, named as the file's row 20
        var collectives = TestSupport.engine();
        try {
            InvalidModelException e = assertThrows(InvalidModelException.class, () -> onTwoCards(
                    withScale("blk.0.ffn_gate.weight", 20, HALF_NAN), new int[][] {{0, 1}}, List.of(1), collectives)
                    .close());
            assertTrue(e.getMessage().contains("blk.0.ffn_gate.weight holds a non-finite value (NaN at row 20,"),
                    e.getMessage());
        } finally {
            TestSupport.stop(collectives);
        }
    }

    @Test
    void overflowingLogitsAndHiddenStatesAreErrorsOnOneCardInEveryMode() {
        for (DotMode mode : DotMode.values()) {
            // 1e38 keeps the normalized state finite; the head's products overflow
            try (PlanExecutor model = Llamas.singleCard(TestSupport.cards(), withOutputNorm(1e38f), mode, 1)) {
                InvalidModelException logit = assertThrows(InvalidModelException.class, () -> model.forward(1, 0));
                assertTrue(logit.getMessage().contains("non-finite logit at position 0"), logit.getMessage());
            }
            // 3e38 overflows the normalized state itself
            try (PlanExecutor model = Llamas.singleCard(TestSupport.cards(), withOutputNorm(3e38f), mode, 1)) {
                InvalidModelException hidden = assertThrows(InvalidModelException.class, () -> model.forward(7, 0));
                assertTrue(hidden.getMessage().contains("non-finite hidden state at position 0"),
                        hidden.getMessage());
            }
        }
        // the same model with ordinary weights computes finite logits
        try (PlanExecutor model = Llamas.singleCard(TestSupport.cards(), SmallModels.sentencePiece().read(),
                DotMode.GGML, 1)) {
            NonFiniteValues.inLogits(model.forward(7, 0), 0);
        }
    }

    @Test
    void theHiddenStateIsCheckedOnTheOutputCardOfAPipeline() {
        // the embedding and the block on card 0, the head on card 1: the hidden state comes back from card 1
        try (PlanExecutor model = onTwoCards(withOutputNorm(3e38f), new int[][] {{0}}, List.of(1), null)) {
            InvalidModelException hidden = assertThrows(InvalidModelException.class, () -> model.forward(7, 0));
            assertTrue(hidden.getMessage().contains("non-finite hidden state at position 0"), hidden.getMessage());
        }
    }
}
