package org.popsolutions.spanker.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.InvalidModelException;
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
 * NaN and infinity in a model's weights are errors naming where they are, not token 0: ggml's activation
 * quantization on the cards turns a NaN into 0, so a NaN norm weight or hidden state would otherwise vanish into
 * plausible logits.
 */
class NonFiniteWeightsTest {
    /** The small SentencePiece model with a NaN block scale in token 7's embedding row (the tied head's row 7). */
    static GgufFile nanInRowSeven() {
        SmallModels.Model scale = SmallModels.sentencePiece().copy();
        ByteBuffer embedding = ByteBuffer.allocate(scale.data().get("token_embd.weight").capacity());
        embedding.put(scale.data().get("token_embd.weight").duplicate()).flip();
        embedding.order(ByteOrder.LITTLE_ENDIAN).putShort(7 * 34, (short) 0x7e00); // f16 NaN, row 7's one block
        scale.data().put("token_embd.weight", embedding);
        return scale.read();
    }

    static void logitThenHiddenState(PlanExecutor model) {
        // every position's logit 7 is NaN; the hidden state of a position fed token 7 is NaN too
        InvalidModelException logit = assertThrows(InvalidModelException.class, () -> model.forward(1, 0));
        assertTrue(logit.getMessage().contains("non-finite logit at position 0 (token 7 of 512 is NaN)"),
                logit.getMessage());
        InvalidModelException hidden = assertThrows(InvalidModelException.class, () -> model.forward(7, 1));
        assertTrue(hidden.getMessage().contains("non-finite hidden state at position 1"), hidden.getMessage());
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
    void nonFiniteLogitsAndHiddenStatesAreErrorsOnOneCardInEveryMode() {
        for (DotMode mode : DotMode.values()) {
            try (PlanExecutor model = Llamas.singleCard(TestSupport.cards(), nanInRowSeven(), mode, 1)) {
                logitThenHiddenState(model);
            }
        }
        // the same model with finite weights computes finite logits
        try (PlanExecutor model = Llamas.singleCard(TestSupport.cards(), SmallModels.sentencePiece().read(),
                DotMode.GGML, 1)) {
            NonFiniteValues.inLogits(model.forward(7, 0), 0);
        }
    }

    @Test
    void theHiddenStateIsCheckedOnTheOutputCardOfAPipeline() {
        GgufFile file = nanInRowSeven();
        // the embedding and the block on card 0, the head on card 1: the hidden state comes back from card 1
        Plan plan = ManualPlans.build(GgufModelReader.shapeOf(file), 2, TopologyKind.RING, new int[][] {{0}}, 0,
                List.of(1), 64);
        try (PlanExecutor model = new PlanExecutor(file, plan, TestSupport.topology(TopologyKind.RING, 2),
                TestSupport.cards(), null, new PlanExecutor.Options(DotMode.GGML, 1, 64, CollectiveAlgorithm.AUTO))) {
            logitThenHiddenState(model);
        }
    }
}
