package org.popsolutions.spanker.scheduler.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.ShapeMismatchException;
import org.popsolutions.spanker.api.TopologyMismatchException;
import org.popsolutions.spanker.api.collective.CollectiveOutcome;
import org.popsolutions.spanker.api.collective.CollectiveRequest;
import org.popsolutions.spanker.api.collective.LinkTraffic;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.device.mock.MockCardProvider;
import org.popsolutions.spanker.scheduler.link.LinkCalculator;

/** Every algorithm on RING and MESH from 1 to 8 cards against the original's results. */
class ScheduledCollectivesTest {
    private final ScheduledCollectives engine = new ScheduledCollectives();

    ScheduledCollectivesTest() {
        engine.linkModel = new LinkCalculator(LinkParameters.REV_A);
        engine.cardProvider = new MockCardProvider();
    }

    @AfterEach
    void stopCards() {
        engine.deactivate();
    }

    static Topology topology(TopologyKind kind, int cards) {
        List<Card> list = new ArrayList<>();
        for (int i = 0; i < cards; i++) {
            list.add(new Card(i, "m" + i, "test", 0));
        }
        List<Link> links = new ArrayList<>();
        for (int[] pair : kind.directedPairs(cards)) {
            links.add(new Link(pair[0], pair[1], LinkState.UP, 500_000_000L, 1e-6));
        }
        return new Topology(kind, list, links);
    }

    static List<float[]> randomBuffers(int cards, int n, long seed) {
        Random random = new Random(seed);
        List<float[]> buffers = new ArrayList<>();
        for (int c = 0; c < cards; c++) {
            float[] b = new float[n];
            for (int i = 0; i < n; i++) {
                b[i] = (random.nextFloat() * 2 - 1) * (1 << random.nextInt(8));
            }
            buffers.add(b);
        }
        return buffers;
    }

    static List<float[]> copy(List<float[]> buffers) {
        return buffers.stream().map(float[]::clone).toList();
    }

    /** The original's strict fold from card 0, element by element. */
    static float[] referenceReduce(ReduceOp op, List<float[]> buffers) {
        float[] acc = buffers.get(0).clone();
        for (int c = 1; c < buffers.size(); c++) {
            float[] b = buffers.get(c);
            for (int i = 0; i < acc.length; i++) {
                switch (op) {
                    case SUM, AVG -> acc[i] = acc[i] + b[i];
                    case MAX -> acc[i] = b[i] > acc[i] ? b[i] : acc[i];
                    case MIN -> acc[i] = b[i] < acc[i] ? b[i] : acc[i];
                }
            }
        }
        if (op == ReduceOp.AVG) {
            for (int i = 0; i < acc.length; i++) {
                acc[i] = acc[i] / buffers.size();
            }
        }
        return acc;
    }

    static void assertBitIdentical(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    what + " element " + i + ": expected " + expected[i] + ", got " + actual[i]);
        }
    }

    /** Sum of p terms in any order: |got − exact| ≤ (p−1)·2⁻²⁴·Σ|xᵢ| (+ one rounding for Avg). */
    static void assertWithinSummationBound(ReduceOp op, List<float[]> inputs, float[] got, int offset, String what) {
        int p = inputs.size();
        for (int i = 0; i < got.length; i++) {
            double exact = 0;
            double magnitude = 0;
            for (float[] b : inputs) {
                exact += b[offset + i];
                magnitude += Math.abs(b[offset + i]);
            }
            double bound = (p - 1) * 0x1p-24 * magnitude * 1.0001;
            if (op == ReduceOp.AVG) {
                exact /= p;
                bound = bound / p + Math.ulp((float) exact);
            }
            assertTrue(Math.abs(got[i] - exact) <= bound,
                    what + " element " + i + ": |" + got[i] + " - " + exact + "| > " + bound);
        }
    }

    static Stream<Arguments> everyAlgorithmKindCablingAndCardCount() {
        return cases(List.of(CollectiveKind.values()), 1, 8);
    }

    /** Every algorithm of each of {@code kinds} on each cabling of {@code fewest}..{@code most} cards. */
    private static Stream<Arguments> cases(List<CollectiveKind> kinds, int fewest, int most) {
        List<Arguments> cases = new ArrayList<>();
        for (CollectiveKind kind : kinds) {
            for (CollectiveAlgorithm algorithm : Schedules.algorithmsFor(kind)) {
                for (TopologyKind cabling : TopologyKind.values()) {
                    for (int cards = fewest; cards <= most; cards++) {
                        cases.add(Arguments.of(kind, algorithm, cabling, cards));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1} on {2} of {3}")
    @MethodSource("everyAlgorithmKindCablingAndCardCount")
    void everyAlgorithmIsCorrect(CollectiveKind kind, CollectiveAlgorithm algorithm, TopologyKind cabling, int cards) {
        assertCorrect(kind, algorithm, cabling, cards, 37); // not a multiple of the card count: uneven chunks
    }

    static Stream<Arguments> everyReducingAlgorithmAndCablingOnThreeToFiveCards() {
        return cases(List.of(CollectiveKind.ALL_REDUCE, CollectiveKind.REDUCE_SCATTER), 3, 5);
    }

    /**
     * Chunks of thousands of values: messages read the sender's memory in place (above the mock's carry size), and a
     * fold of several messages runs as one pass block by block (the mock's fold runs), over more than one block and a
     * part. The results are the same bits as the original's fold, as with small buffers.
     */
    @ParameterizedTest(name = "{0} {1} on {2} of {3}")
    @MethodSource("everyReducingAlgorithmAndCablingOnThreeToFiveCards")
    void largeBuffersFoldInPassesBitForBitAsTheOriginalFold(CollectiveKind kind, CollectiveAlgorithm algorithm,
            TopologyKind cabling, int cards) {
        assertCorrect(kind, algorithm, cabling, cards, 4 * 1024 * cards + 37);
    }

    private void assertCorrect(CollectiveKind kind, CollectiveAlgorithm algorithm, TopologyKind cabling, int cards,
            int n) {
        Topology topology = topology(cabling, cards);
        for (ReduceOp op : kind == CollectiveKind.ALL_REDUCE || kind == CollectiveKind.REDUCE_SCATTER
                ? ReduceOp.values() : new ReduceOp[] {ReduceOp.SUM}) {
            List<float[]> inputs = randomBuffers(cards, n, 31L * cards + op.ordinal());
            List<float[]> buffers = copy(inputs);
            CollectiveOutcome outcome = engine.run(new CollectiveRequest(kind, op, topology, buffers, algorithm,
                    cards - 1, false));
            assertEquals(algorithm, outcome.algorithm());
            String what = kind + " " + algorithm + " " + op + " on " + cabling + " of " + cards;
            switch (kind) {
                case ALL_REDUCE -> {
                    float[] expected = referenceReduce(op, inputs);
                    for (int c = 0; c < cards; c++) {
                        assertBitIdentical(outcome.results().get(0), outcome.results().get(c), what + " same on card " + c);
                        if (op == ReduceOp.MAX || op == ReduceOp.MIN || algorithm == CollectiveAlgorithm.REFERENCE
                                || algorithm == CollectiveAlgorithm.DIRECT) {
                            assertBitIdentical(expected, outcome.results().get(c), what);
                        } else {
                            assertWithinSummationBound(op, inputs, outcome.results().get(c), 0, what);
                        }
                    }
                }
                case REDUCE_SCATTER -> {
                    float[] expected = referenceReduce(op, inputs);
                    for (int c = 0; c < cards; c++) {
                        int lo = c * n / cards;
                        int hi = (c + 1) * n / cards;
                        float[] shard = outcome.results().get(c);
                        assertEquals(hi - lo, shard.length, what);
                        float[] expectedShard = java.util.Arrays.copyOfRange(expected, lo, hi);
                        if (op == ReduceOp.MAX || op == ReduceOp.MIN || algorithm == CollectiveAlgorithm.REFERENCE
                                || algorithm == CollectiveAlgorithm.DIRECT) {
                            assertBitIdentical(expectedShard, shard, what + " shard " + c);
                        } else {
                            assertWithinSummationBound(op, inputs, shard, lo, what + " shard " + c);
                        }
                    }
                }
                case ALL_GATHER -> {
                    float[] expected = new float[cards * n];
                    for (int c = 0; c < cards; c++) {
                        System.arraycopy(inputs.get(c), 0, expected, c * n, n);
                    }
                    for (int c = 0; c < cards; c++) {
                        assertBitIdentical(expected, outcome.results().get(c), what + " card " + c);
                    }
                }
                case BROADCAST -> {
                    for (int c = 0; c < cards; c++) {
                        assertBitIdentical(inputs.get(cards - 1), outcome.results().get(c), what + " card " + c);
                    }
                }
            }
        }
    }

    @Test
    void referenceAlgorithmSumIsBitIdenticalToTheOriginalFold() {
        List<float[]> inputs = List.of(new float[] {1e8f}, new float[] {1f}, new float[] {-1e8f}, new float[] {1f});
        List<float[]> buffers = copy(inputs);
        engine.run(CollectiveRequest.of(CollectiveKind.ALL_REDUCE, ReduceOp.SUM, topology(TopologyKind.RING, 4), buffers,
                CollectiveAlgorithm.REFERENCE));
        buffers.forEach(b -> assertEquals(1f, b[0]));
    }

    @Test
    void maxAndMinKeepTheOriginalsNanAndSignedZeroSemanticsUnderEveryAlgorithm() {
        // card 0 NaN wins; a later NaN is skipped; among ±0 ties the first card's zero wins.
        float[][] columns = {
            {Float.NaN, 1, 2, 3}, {1, Float.NaN, 5, 2}, {-0f, 0f, -1, -2}, {0f, -0f, 0f, -0f},
            {Float.NEGATIVE_INFINITY, Float.NaN, Float.NaN, Float.NaN}, {-5, -0f, 0f, Float.NaN},
            {Float.POSITIVE_INFINITY, Float.NaN, Float.POSITIVE_INFINITY, 1}};
        for (ReduceOp op : List.of(ReduceOp.MAX, ReduceOp.MIN)) {
            for (CollectiveAlgorithm algorithm : Schedules.algorithmsFor(CollectiveKind.ALL_REDUCE)) {
                for (TopologyKind cabling : TopologyKind.values()) {
                    List<float[]> inputs = new ArrayList<>();
                    for (int c = 0; c < 4; c++) {
                        float[] b = new float[columns.length];
                        for (int i = 0; i < columns.length; i++) {
                            b[i] = columns[i][c];
                        }
                        inputs.add(b);
                    }
                    List<float[]> buffers = copy(inputs);
                    engine.run(CollectiveRequest.of(CollectiveKind.ALL_REDUCE, op, topology(cabling, 4), buffers,
                            algorithm));
                    float[] expected = referenceReduce(op, inputs);
                    for (float[] b : buffers) {
                        assertBitIdentical(expected, b, op + " " + algorithm + " " + cabling);
                    }
                }
            }
        }
    }

    @Test
    void bufferCountIsCheckedFirstThenShapes() {
        Topology ring = topology(TopologyKind.RING, 3);
        assertThrows(TopologyMismatchException.class, () -> engine.run(CollectiveRequest.of(CollectiveKind.ALL_REDUCE,
                ReduceOp.SUM, ring, List.of(new float[1], new float[2]), CollectiveAlgorithm.RING)));
        ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                () -> engine.run(CollectiveRequest.of(CollectiveKind.ALL_GATHER, ReduceOp.SUM, ring,
                        List.of(new float[2], new float[2], new float[3]), CollectiveAlgorithm.RING)));
        assertEquals(2, e.sail());
    }

    @Test
    void aLinkThatIsNotUpFailsTheCollectiveNamingItAndTouchesNothing() {
        Topology healthy = topology(TopologyKind.RING, 4);
        List<Link> links = new ArrayList<>(healthy.links());
        int broken = links.indexOf(healthy.link(2, 3).orElseThrow());
        links.set(broken, links.get(broken).withState(LinkState.FAULT));
        Topology faulty = new Topology(TopologyKind.RING, healthy.cards(), links);
        List<float[]> buffers = randomBuffers(4, 8, 1);
        List<float[]> before = copy(buffers);
        DeviceException e = assertThrows(DeviceException.class, () -> engine.run(
                CollectiveRequest.of(CollectiveKind.ALL_REDUCE, ReduceOp.SUM, faulty, buffers, CollectiveAlgorithm.RING)));
        assertTrue(e.getMessage().contains("link 2 -> 3 is FAULT"), e.getMessage());
        for (int c = 0; c < 4; c++) {
            assertArrayEquals(before.get(c), buffers.get(c));
        }
    }

    @Test
    void ringAllReduceMovesTwoTimesPMinusOneOverPOfTheBufferOverEachNeighbourLink() {
        int n = 1024;
        CollectiveOutcome outcome = engine.run(CollectiveRequest.of(CollectiveKind.ALL_REDUCE, ReduceOp.SUM,
                topology(TopologyKind.RING, 4), randomBuffers(4, n, 3), CollectiveAlgorithm.RING));
        assertEquals(4, outcome.traffic().size());
        for (LinkTraffic traffic : outcome.traffic()) {
            assertEquals((traffic.local() + 1) % 4, traffic.remote());
            assertEquals(2L * 3 * (n / 4) * Float.BYTES, traffic.bytes());
            assertEquals(6, traffic.messages());
        }
    }

    @Test
    void directOnARingForwardsThroughTheMiddleCardAndCountsEveryHop() {
        CollectiveOutcome outcome = engine.run(CollectiveRequest.of(CollectiveKind.ALL_GATHER, ReduceOp.SUM,
                topology(TopologyKind.RING, 4), randomBuffers(4, 10, 4), CollectiveAlgorithm.DIRECT));
        // Each card sends its 40 bytes to 3 cards: 2 neighbours (1 hop) and the opposite card (2 hops).
        long total = outcome.traffic().stream().mapToLong(LinkTraffic::bytes).sum();
        assertEquals(4 * (40 + 40 + 80), total);
        assertEquals(2, outcome.predicted().maxHops());
    }

    @Test
    void autoPicksTheCheapestAlgorithmByTheLinkModel() {
        LinkCalculator model = new LinkCalculator(LinkParameters.REV_A);
        for (long bytes : new long[] {64, 64L << 20}) {
            CollectiveOutcome outcome = engine.run(CollectiveRequest.of(CollectiveKind.ALL_REDUCE, ReduceOp.SUM,
                    topology(TopologyKind.RING, 4), randomBuffers(4, (int) (bytes / 4), 5), CollectiveAlgorithm.AUTO));
            assertEquals(model.rank(CollectiveKind.ALL_REDUCE, TopologyKind.RING, 4, bytes).get(0).algorithm(),
                    outcome.algorithm());
        }
    }

    @Test
    void algorithmThatCannotRunTheCollectiveIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> engine.run(CollectiveRequest.of(CollectiveKind.ALL_REDUCE, ReduceOp.SUM,
                        topology(TopologyKind.RING, 2), randomBuffers(2, 4, 1), CollectiveAlgorithm.BINOMIAL_TREE)));
        assertTrue(e.getMessage().contains("tree"), e.getMessage());
    }

    @Test
    void zeroLengthBuffersAndZeroCardsAreNoOps() {
        CollectiveOutcome outcome = engine.run(CollectiveRequest.of(CollectiveKind.ALL_REDUCE, ReduceOp.AVG,
                topology(TopologyKind.RING, 3), List.of(new float[0], new float[0], new float[0]),
                CollectiveAlgorithm.RING));
        assertEquals(List.of(), outcome.traffic());
        assertEquals(0, engine.run(CollectiveRequest.of(CollectiveKind.ALL_REDUCE, ReduceOp.SUM,
                topology(TopologyKind.RING, 0), List.of(), CollectiveAlgorithm.AUTO)).results().size());
    }

    @Test
    void shapedRunsTakeAtLeastThePredictedTime() {
        // Shaping makes receivers wait for the model's arrival times, so a run can only be slower.
        CollectiveOutcome outcome = engine.run(new CollectiveRequest(CollectiveKind.ALL_REDUCE, ReduceOp.SUM,
                topology(TopologyKind.RING, 4), randomBuffers(4, 16_384, 6), CollectiveAlgorithm.RING, 0, true));
        assertTrue(outcome.elapsedNanos() >= outcome.predicted().totalSeconds() * 1e9 * 0.999,
                outcome.elapsedNanos() + " ns vs predicted " + outcome.predicted().totalSeconds());
    }
}
