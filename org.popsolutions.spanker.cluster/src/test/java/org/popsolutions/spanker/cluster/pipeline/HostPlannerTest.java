package org.popsolutions.spanker.cluster.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.cluster.HostPipelineRequest;
import org.popsolutions.spanker.api.cluster.HostPlan;
import org.popsolutions.spanker.api.cluster.HostStage;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.ModelSynth;
import org.popsolutions.spanker.scheduler.link.LinkCalculator;

/** Stage boundaries across hosts chosen by the cost model, and the hand-offs between pods. */
class HostPlannerTest {
    static final ModelSynth.Preset PRESET = new ModelSynth.Preset("hosts", 256, 4, 8, 4, 512, 600, 64, false);
    /** Eight blocks and a head as heavy as three of them (8192 x 256). */
    static final ModelSynth.Preset WIDE = new ModelSynth.Preset("wide", 256, 8, 8, 4, 512, 8192, 64, false);
    static final LinkCalculator LINKS = new LinkCalculator(LinkParameters.REV_A);
    static final double DDR = 2e9;

    @TempDir
    static Path models;
    static ModelShape shape;
    static String model;
    static ModelShape wideShape;
    static String wide;

    @BeforeAll
    static void synthesize() {
        Path file = models.resolve("hosts-q8_0.gguf");
        ModelSynth.write(PRESET, GgmlType.Q8_0, 7, file, done -> { });
        model = file.toString();
        shape = GgufModelReader.shapeOf(GgufReader.open(file));
        Path wideFile = models.resolve("wide-q8_0.gguf");
        ModelSynth.write(WIDE, GgmlType.Q8_0, 7, wideFile, done -> { });
        wide = wideFile.toString();
        wideShape = GgufModelReader.shapeOf(GgufReader.open(wideFile));
    }

    static HostPipelineRequest request(int hosts, int cards, int hostsPerPod) {
        return request(model, hosts, cards, hostsPerPod);
    }

    static HostPipelineRequest request(String file, int hosts, int cards, int hostsPerPod) {
        return new HostPipelineRequest(file, hosts, cards, PRESET.contextLength(), false, 1, Duration.ofSeconds(60),
                null, hostsPerPod);
    }

    static List<Integer> firsts(HostPlan plan) {
        return plan.stages().stream().map(HostStage::firstBlock).toList();
    }

    /**
     * Eight equal blocks on 3 hosts, the head as heavy as three blocks: the even split (2 | 3 | 3) leaves the head's
     * stage the slowest (six blocks' worth); the cost model gives the head's host one block and splits the other seven
     * over the first two hosts. Checked against the exact cost of every contiguous split.
     */
    @Test
    void theHeadsStageGetsFewerBlocksThanAnEvenSplitGivesIt() {
        HostPipelineRequest request = request(wide, 3, 1, 0);
        HostPlan plan = HostPlanner.plan(wideShape, request, LINKS, DDR);
        assertEquals(List.of(0, 3, 7), firsts(plan), "4 | 3 | 1 (the head's host) — " + plan.stages());
        assertTrue(plan.bottleneckSeconds() < 0.8 * plan.evenSplitBottleneckSeconds(), plan.bottleneckSeconds()
                + " vs even " + plan.evenSplitBottleneckSeconds());
        double best = Double.POSITIVE_INFINITY;
        for (int a = 1; a < 7; a++) {
            for (int b = a + 1; b < 8; b++) {
                HostPlanner.Costs costs = new HostPlanner.Costs(wideShape, request, DDR);
                double handOff = 3 * LINKS.hostTransferSeconds(WIDE.embedding() * 4L);
                double worst = Math.max(costs.of(0, a, true, false).computeSeconds() + handOff,
                        Math.max(costs.of(a, b, false, false).computeSeconds() + handOff,
                                costs.of(b, 8, false, true).computeSeconds()));
                best = Math.min(best, worst);
            }
        }
        assertEquals(best, plan.bottleneckSeconds(), best * 1e-12, "the fastest slowest stage of every split");
        // one token still goes through every stage: the sum is what decode waits for
        assertEquals(plan.computeSeconds() + plan.linkSeconds() + plan.handOffsSeconds() + plan.hostSeconds(),
                plan.secondsPerToken(), 1e-15);
        assertEquals(2 * (3 * LINKS.hostTransferSeconds(WIDE.embedding() * 4L)), plan.handOffsSeconds(), 1e-15);
        assertEquals(wideShape.totalBytes(), plan.stages().stream().mapToLong(HostStage::weightBytes).sum(),
                "the hosts hold the model once");
    }

    /** A small head beside a hand-off the last stage does not pay: the even split is already the best. */
    @Test
    void whenHandOffsOutweighTheHeadTheEvenSplitStays() {
        HostPlan plan = HostPlanner.plan(shape, request(3, 1, 0), LINKS, DDR);
        assertEquals(List.of(0, 1, 2), firsts(plan));
        assertEquals(plan.evenSplitBottleneckSeconds(), plan.bottleneckSeconds(), 1e-18);
    }

    /** Stages 0-1 in pod 0, 2-3 in pod 1: the one hand-off between pods costs the uplink's transfer more. */
    @Test
    void aPipelineAcrossPodsPaysTheHandOffBetweenPods() {
        HostPlan plan = HostPlanner.plan(shape, request(4, 1, 2), LINKS, DDR);
        assertEquals(2, plan.pods());
        assertEquals(List.of(0, 0, 1, 1), plan.stages().stream().map(HostStage::pod).toList());
        double transfer = LINKS.hostTransferSeconds(PRESET.embedding() * 4L);
        assertEquals(List.of(3 * transfer, 4 * transfer, 3 * transfer, 0.0),
                plan.stages().stream().map(HostStage::handOffSeconds).toList());
        assertEquals(4 * transfer, plan.crossPodHandOffSeconds(), 1e-18);
        HostPlan onePod = HostPlanner.plan(shape, request(4, 1, 0), LINKS, DDR);
        assertEquals(transfer, plan.secondsPerToken() - onePod.secondsPerToken(), 1e-12,
                "across two pods a token pays one uplink transfer more");
        assertTrue(plan.notes().stream().anyMatch(n -> n.contains("across 2 pods")), plan.notes().toString());
    }

    @Test
    void aModelThatFitsNoSplitIsRefusedInOneLine() {
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class,
                () -> HostPlanner.plan(shape, request(2, 1, 0), LINKS, DDR, 100_000));
        assertTrue(e.getMessage().contains("does not fit 2 hosts"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    /** The dynamic program against every contiguous split, on random block costs, memories and hand-offs. */
    @Test
    void theSplitIsTheBestOfEveryContiguousSplit() {
        Random random = new Random(13);
        for (int round = 0; round < 400; round++) {
            int n = 1 + random.nextInt(8);
            int k = 1 + random.nextInt(n);
            double[] block = new double[n];
            long[] bytes = new long[n];
            for (int b = 0; b < n; b++) {
                block[b] = 1 + random.nextInt(9);
                bytes[b] = 1 + random.nextInt(5);
            }
            double embed = random.nextInt(3);
            double head = random.nextInt(6);
            double[] handOffs = new double[k];
            for (int i = 0; i + 1 < k; i++) {
                handOffs[i] = random.nextInt(3);
            }
            long memory = 3 + random.nextInt(12);
            int[] split = HostPlanner.Split.minimizeSlowest(block, bytes, embed, head, 1, 2, 0.5, handOffs, memory, k);
            double best = bruteForce(block, bytes, embed, head, handOffs, memory, k, new int[k + 1], 1);
            if (best == Double.POSITIVE_INFINITY) {
                assertNull(split, "round " + round + ": no split fits, the planner found one");
                continue;
            }
            assertNotNull(split, "round " + round + ": a split fits");
            assertEquals(best, slowest(block, bytes, embed, head, handOffs, memory, split), 1e-9, "round " + round);
        }
    }

    private static double bruteForce(double[] block, long[] bytes, double embed, double head, double[] handOffs,
            long memory, int k, int[] bounds, int at) {
        int n = block.length;
        if (at == k) {
            bounds[k] = n;
            return slowest(block, bytes, embed, head, handOffs, memory, bounds);
        }
        double best = Double.POSITIVE_INFINITY;
        for (int b = bounds[at - 1] + 1; b <= n - (k - at); b++) {
            bounds[at] = b;
            best = Math.min(best, bruteForce(block, bytes, embed, head, handOffs, memory, k, bounds, at + 1));
        }
        return best;
    }

    private static double slowest(double[] block, long[] bytes, double embed, double head, double[] handOffs,
            long memory, int[] bounds) {
        int k = bounds.length - 1;
        double worst = 0;
        for (int i = 0; i < k; i++) {
            double cost = handOffs[i];
            long held = (i == 0 ? 1 : 0) + (i == k - 1 ? 2 : 0);
            for (int b = bounds[i]; b < bounds[i + 1]; b++) {
                cost += block[b] + 0.5;
                held += bytes[b];
            }
            cost += (i == 0 ? embed : 0) + (i == k - 1 ? head : 0);
            if (held > memory) {
                return Double.POSITIVE_INFINITY;
            }
            worst = Math.max(worst, cost);
        }
        return worst;
    }
}
