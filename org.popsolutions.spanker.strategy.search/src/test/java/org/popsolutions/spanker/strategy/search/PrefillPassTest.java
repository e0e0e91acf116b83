package org.popsolutions.spanker.strategy.search;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.plan.PlanOptions;

/**
 * Batched prefill streams each card's weights once per prompt pass of up to 64 tokens (rev-A's rule: a product over
 * a pass's tokens takes at least its weight bytes at 2 GB/s, as the emulated card paces it), pinned by hand for
 * TinyLlama's Q4_0 shape on two cards: blocks 0-10 on card 0, blocks 11-21 and the head on card 1.
 */
class PrefillPassTest {
    /** A block: q and output 2048×2048, k and v 256×2048, gate and up 5632×2048, down 2048×5632, Q4_0 (18 B per 32). */
    private static final long BLOCK_BYTES = (2L * 2048 * 2048 + 2L * 256 * 2048 + 3L * 5632 * 2048) / 32 * 18
            + 2 * 2048 * 4;
    /** The head: 32000×2048 Q4_0 and the output norm. */
    private static final long HEAD_BYTES = 32000L * 2048 / 32 * 18 + 2048 * 4;
    private static final double DDR = 2e9;

    private static Evaluator.Evaluation twoStages(int prompt) {
        Evaluator e = new Evaluator(new LayerTable(Fixtures.tinyLlama(), new PlanOptions(PlanOptions.REV_A_CARD_MEMORY,
                2048)), new Network(Fixtures.ring(2), Fixtures.LINKS),
                Fixtures.DEFAULT_BANDWIDTH.current().localDdrBytesPerSecond(), PlanOptions.REV_A_CARD_MEMORY, prompt);
        return e.evaluate(new Layout(List.of(new Layout.Stage(0, 11, 0, 1, null), new Layout.Stage(11, 22, 1, 1, null)),
                0, 1, 1).placement(e.table(), e.network()));
    }

    @Test
    void theHandComputedBytesAreTheDecodeStream() {
        assertEquals(24_788_992, BLOCK_BYTES);
        assertEquals(36_872_192, HEAD_BYTES);
        // one token: every block and the head, each once, 582,230,016 B at 2 GB/s
        assertEquals((22 * BLOCK_BYTES + HEAD_BYTES) / DDR, twoStages(1).decode().compute(), 1e-12);
        assertEquals(0.291115008, twoStages(1).decode().compute(), 1e-12);
    }

    @Test
    void aPassOfUpToSixtyFourTokensStreamsTheWeightsOnce() {
        for (int prompt : new int[] {1, 8, 32, 64}) {
            assertEquals(0.291115008, twoStages(prompt).batched().compute(), 1e-12, prompt + " tokens");
        }
        assertEquals(2 * 0.291115008, twoStages(65).batched().compute(), 1e-12, "65 tokens: two passes");
    }

    @Test
    void aHundredTokenPromptIsTwoPassesOfWeightsAndAHundredTokensOfHandOff() {
        Evaluator.Evaluation hundred = twoStages(100);
        // passes of 64 and 36 tokens: two streams of 582,230,016 B (token by token it was a hundred: 29.1 s)
        assertEquals(0.582230016, hundred.batched().compute(), 1e-12);
        // the hand-off from card 0 to card 1 carries every token's hidden vector (8 KB), its latency once a pass
        assertEquals(100 * twoStages(1).batched().link(), hundred.batched().link(), 1e-12);
        assertEquals(2 * twoStages(1).batched().latency(), hundred.batched().latency(), 1e-15);
        assertEquals(2 * twoStages(64).batched().latency(), hundred.batched().latency(), 1e-15);
        // pipelined is token by token: every stage and the head once, the slower stage (11 blocks) 99 more times
        assertEquals((22 * BLOCK_BYTES + HEAD_BYTES) / DDR + 99 * 11 * BLOCK_BYTES / DDR,
                hundred.pipelined().compute(), 1e-9);
        assertEquals("batched", hundred.batched().total() <= hundred.pipelined().total() ? "batched" : "pipelined");
    }
}
