package org.popsolutions.spanker.strategy.search;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.PlanOptions;

/**
 * The host term: the round trips a token makes over the rev-A host link (GbE, 50 µs latency, 100 MB/s), each its
 * latency plus its bytes, pinned by hand for TinyLlama's shape (hidden 2048 floats, vocabulary 32000).
 */
class HostTermTest {
    private static final double ALPHA = 50e-6;
    private static final double BYTES_PER_SECOND = 100e6;
    private static final ModelShape TINY_LLAMA = Fixtures.tinyLlama();

    private static Evaluator evaluator(int cards, int prompt) {
        return new Evaluator(new LayerTable(TINY_LLAMA, new PlanOptions(PlanOptions.REV_A_CARD_MEMORY, 2048)),
                new Network(Fixtures.ring(cards), Fixtures.LINKS),
                Fixtures.DEFAULT_BANDWIDTH.current().localDdrBytesPerSecond(), PlanOptions.REV_A_CARD_MEMORY, prompt);
    }

    /** Blocks split in two contiguous stages, one card each; embedding on card 0, head on {@code headSize} cards. */
    private static Placement twoStages(Evaluator e, int headStart, int headSize) {
        return new Layout(List.of(new Layout.Stage(0, 11, 0, 1, null), new Layout.Stage(11, 22, 1, 1, null)), 0,
                headStart, headSize).placement(e.table(), e.network());
    }

    @Test
    void aDecodedTokenPaysEveryRoundTripOfTheHostLink() {
        Evaluator e = evaluator(2, 1);
        double host = e.evaluate(twoStages(e, 1, 1)).decode().host();
        double expected = (ALPHA + 2 * 8 / BYTES_PER_SECOND) // token and position to both cards, SUBMITs behind
                + (ALPHA + 28 / BYTES_PER_SECOND) // the COMPLETEs
                + (2 * ALPHA + (20 + 2048 * 4) / BYTES_PER_SECOND) // READ of the head's input
                + (2 * ALPHA + (20 + 32000 * 4) / BYTES_PER_SECOND); // READ of the logits
        assertEquals(expected, host, 1e-12);
        assertEquals(1.663e-3, host, 0.001e-3, "six latencies (0.3 ms) and 136.4 KB (1.36 ms)");
    }

    @Test
    void everyHeadCardIsOneMoreReadOfItsRowsOfTheLogits() {
        Evaluator e = evaluator(4, 1);
        Placement one = new Layout(List.of(new Layout.Stage(0, 22, 0, 4, Network.ALGORITHMS.get(0))), 0, 0, 1)
                .placement(e.table(), e.network());
        Placement four = new Layout(List.of(new Layout.Stage(0, 22, 0, 4, Network.ALGORITHMS.get(0))), 0, 0, 4)
                .placement(e.table(), e.network());
        double extra = e.evaluate(four).decode().host() - e.evaluate(one).decode().host();
        // the logits' bytes are the same, split four ways: three more requests and replies
        assertEquals(3 * (2 * ALPHA + 20 / BYTES_PER_SECOND), extra, 1e-12);
    }

    @Test
    void aPromptPaysTheRoundTripsOncePerPassOfSixtyFourTokens() {
        Evaluator e = evaluator(2, 100);
        Evaluator.Evaluation evaluation = e.evaluate(twoStages(e, 1, 1));
        double out = (ALPHA + 28 / BYTES_PER_SECOND) + (2 * ALPHA + (20 + 2048 * 4) / BYTES_PER_SECOND)
                + (2 * ALPHA + (20 + 32000 * 4) / BYTES_PER_SECOND);
        // passes of 64 and 36 tokens: two writes of the steps to both cards, two times the reads
        double in = 2 * ALPHA + 100 * 2 * 8 / BYTES_PER_SECOND;
        assertEquals(in + 2 * out, evaluation.batched().host(), 1e-12);
        // pipelined: one token at a time through the stages, the host's writes a stage of their own, read once
        assertEquals((ALPHA + 2 * 8 / BYTES_PER_SECOND) + out, evaluation.pipelined().host(), 1e-12);
    }
}
