package org.popsolutions.spanker.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.cluster.ClusterException;
import org.popsolutions.spanker.api.cluster.HostPipeline;
import org.popsolutions.spanker.api.cluster.HostPipelineRequest;
import org.popsolutions.spanker.api.cluster.HostPlan;
import org.popsolutions.spanker.api.cluster.HostStage;
import org.popsolutions.spanker.api.cluster.Level;
import org.popsolutions.spanker.api.cluster.NodeState;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.cluster.control.ClusterControl;
import org.popsolutions.spanker.cluster.control.ClusterHostPipelines;
import org.popsolutions.spanker.cluster.control.StateFile;
import org.popsolutions.spanker.cluster.node.Layout;
import org.popsolutions.spanker.device.mock.MockCardProvider;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.ModelSynth;
import org.popsolutions.spanker.model.llama.Sampler;
import org.popsolutions.spanker.runtime.Generation;
import org.popsolutions.spanker.runtime.Llamas;
import org.popsolutions.spanker.runtime.PlanExecutor;
import org.popsolutions.spanker.scheduler.link.LinkCalculator;

/**
 * A model run as a pipeline across the L3 hosts of a real cluster on 127.0.0.1: one pod of three hosts (6 nodes in 3
 * processes, split depth first: [root, L5] [pod, host 0] [host 1, host 2]). Each host runs its stage on mock cards in
 * its own process; the hidden state goes host to host over the data plane. Every test stops its cluster.
 */
@Timeout(600)
class HostPipelineProcessesTest {
    static final ModelSynth.Preset PRESET = new ModelSynth.Preset("hosts", 256, 4, 8, 4, 512, 600, 64, false);
    static final int[] PROMPT = {1, 5, 9, 42};
    static final int NEW_TOKENS = 8;

    @TempDir
    static Path models;
    static Path model;

    @TempDir
    Path home;
    ClusterControl control;
    ClusterHostPipelines pipelines;

    @BeforeAll
    static void synthesize() {
        model = models.resolve("hosts-q8_0.gguf");
        ModelSynth.write(PRESET, GgmlType.Q8_0, 7, model, done -> { });
    }

    @BeforeEach
    void setUp() {
        control = new ClusterControl(new StateFile(home));
        pipelines = new ClusterHostPipelines(new StateFile(home), new LinkCalculator(LinkParameters.REV_A));
    }

    @AfterEach
    void stopEverything() {
        List<Long> pids = control.stop().map(s -> {
            List<Long> all = new ArrayList<>(s.stopped());
            all.addAll(s.killed());
            return all;
        }).orElse(List.of());
        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "process " + pid + " is left");
        }
    }

    static HostPipelineRequest request(int hosts, int cardsPerHost) {
        return request(hosts, cardsPerHost, null);
    }

    static HostPipelineRequest request(int hosts, int cardsPerHost, String device) {
        return new HostPipelineRequest(model.toString(), hosts, cardsPerHost, PRESET.contextLength(), false, 1,
                Duration.ofSeconds(120), device);
    }

    static List<Integer> oneMockCard(float[] firstLogits) {
        try (PlanExecutor one = Llamas.singleCard(new MockCardProvider(), GgufReader.open(model), DotMode.GGML, 1)) {
            System.arraycopy(one.forward(PROMPT[0], 0), 0, firstLogits, 0, firstLogits.length);
            return Generation.generate(one, PROMPT, NEW_TOKENS, Sampler.greedy(), -1, null);
        }
    }

    /** Card emulator processes started to end with {@code owner} (a host's own cards). */
    static List<ProcessHandle> cardsOwnedBy(long owner) {
        return ProcessHandle.allProcesses().filter(p -> {
            // the whole command line (ProcessHandle.Info cuts long ones short, and the class path is long)
            String line = commandLine(p.pid());
            return line.contains("CardEmulatorMain") && line.contains(" --exit-with " + owner + " ")
                    || line.contains("CardEmulatorMain") && line.endsWith(" --exit-with " + owner);
        }).toList();
    }

    static String commandLine(long pid) {
        try {
            return new String(java.nio.file.Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                    java.nio.charset.StandardCharsets.UTF_8).replace('\0', ' ').strip();
        } catch (java.io.IOException | RuntimeException e) {
            return "";
        }
    }

    /** Prompt, then greedy tokens, each fed back: what Generation does with one executor. */
    static List<Integer> generate(HostPipeline pipeline, float[] firstLogits) {
        float[] logits = new float[PRESET.vocabulary()];
        int position = 0;
        for (int token : PROMPT) {
            pipeline.forward(token, position, logits);
            if (position == 0) {
                System.arraycopy(logits, 0, firstLogits, 0, logits.length);
            }
            position++;
        }
        List<Integer> tokens = new ArrayList<>();
        for (int i = 0; i < NEW_TOKENS; i++) {
            int next = Sampler.greedy().sample(logits);
            tokens.add(next);
            if (i < NEW_TOKENS - 1) {
                pipeline.forward(next, position++, logits);
            }
        }
        return tokens;
    }

    @Test
    void withoutAClusterThePipelineSaysSoInOneLine() {
        ClusterException e = assertThrows(ClusterException.class, () -> pipelines.open(request(2, 1)));
        assertTrue(e.getMessage().contains("no cluster is running"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    /**
     * Two hosts, each on one emulated Sails card of its own (its own emulator process, started by the host and tied
     * to it): the same greedy tokens and position-0 logits as one mock card. Killing a host's process takes its card
     * with it; stopping the cluster stops the other's.
     */
    @Test
    void hostsOnTheirOwnEmulatedCardsGiveTheSameTokensAsOneMockCard() throws Exception {
        float[] expectedLogits = new float[PRESET.vocabulary()];
        List<Integer> expected = oneMockCard(expectedLogits);
        String before = System.getProperty("spanker.emulator.classpath");
        System.setProperty("spanker.emulator.classpath", System.getProperty("java.class.path"));
        ClusterControl.Started started;
        try {
            // one process per node: [root] [L5] [pod] [host 0] [host 1]
            started = control.start(new Layout(1, 1, 2), 5);
        } finally {
            if (before == null) {
                System.clearProperty("spanker.emulator.classpath");
            } else {
                System.setProperty("spanker.emulator.classpath", before);
            }
        }
        long host0 = started.pids().get(3);
        long host1 = started.pids().get(4);
        List<ProcessHandle> cards0;
        List<ProcessHandle> cards1;
        try (HostPipeline pipeline = pipelines.open(request(2, 1, HostPipelineRequest.SAILS))) {
            float[] firstLogits = new float[PRESET.vocabulary()];
            assertEquals(expected, generate(pipeline, firstLogits), "greedy tokens across 2 hosts on emulated cards");
            assertArrayEquals(expectedLogits, firstLogits, "logits at position 0, bit for bit");
            assertEquals(List.of(host0, host1), pipeline.plan().stages().stream().map(HostStage::pid).toList());
            for (String host : List.of("L3(0,0,0,0)", "L3(0,0,0,1)")) {
                assertTrue(pipeline.plan().notes().stream().anyMatch(n -> n.contains(host) && n.contains("1 sails"
                        + " card")), "the host says its stage ran on its sails card: " + pipeline.plan().notes());
            }
            cards0 = cardsOwnedBy(host0);
            cards1 = cardsOwnedBy(host1);
            assertEquals(1, cards0.size(), "host 0 started one emulated card of its own");
            assertEquals(1, cards1.size(), "host 1 started one emulated card of its own");
        }
        // kill -9 of host 1's process: its card notices its owner is gone and ends
        ProcessHandle.of(host1).ifPresent(ProcessHandle::destroyForcibly);
        assertTrue(cards1.get(0).onExit().handle((p, e) -> true).get(60, TimeUnit.SECONDS),
                "the killed host's card ended with it");
        control.stop();
        assertTrue(cards0.get(0).onExit().handle((p, e) -> true).get(30, TimeUnit.SECONDS),
                "cluster stop ended host 0's card");
        assertFalse(cards0.get(0).isAlive() || cards1.get(0).isAlive(), "no card process left");
    }

    @Test
    void aPipelineAcrossThreeHostsGivesTheSameTokensAsOneCardAndAKilledHostIsNamed() throws Exception {
        GgufFile file = GgufReader.open(model);
        List<Integer> expected;
        float[] expectedLogits;
        try (PlanExecutor one = Llamas.singleCard(new MockCardProvider(), file, DotMode.GGML, 1)) {
            expectedLogits = one.forward(PROMPT[0], 0);
            expected = Generation.generate(one, PROMPT, NEW_TOKENS, Sampler.greedy(), -1, null);
        }
        ClusterControl.Started started = control.start(new Layout(1, 1, 3), 3);

        // the plan: blocks 0 | 1 | 2-3 (the cost model's choice: this model's head is small beside a hand-off, which
        // the last stage does not pay; HostPlannerTest has one where the head's host gets fewer blocks), the
        // hand-off three host-link transfers of the hidden state
        HostPlan predicted = pipelines.plan(request(3, 1));
        assertEquals(List.of(0, 1, 2), predicted.stages().stream().map(HostStage::firstBlock).toList());
        assertEquals(List.of(1, 2, 4), predicted.stages().stream().map(HostStage::endBlock).toList());
        LinkCalculator links = new LinkCalculator(LinkParameters.REV_A);
        assertEquals(PRESET.embedding() * 4L, predicted.handOffBytes());
        assertEquals(3 * links.hostTransferSeconds(PRESET.embedding() * 4L), predicted.handOffSeconds(), 1e-15);
        assertEquals(predicted.computeSeconds() + predicted.handOffs() * predicted.handOffSeconds()
                + predicted.hostSeconds(), predicted.secondsPerToken(), 1e-15);

        try (HostPipeline pipeline = pipelines.open(request(3, 1))) {
            float[] firstLogits = new float[PRESET.vocabulary()];
            assertEquals(expected, generate(pipeline, firstLogits), "greedy tokens across 3 hosts");
            assertArrayEquals(expectedLogits, firstLogits, "logits at position 0, bit for bit");
            HostPlan placed = pipeline.plan();
            assertEquals(3, new HashSet<>(placed.stages().stream().map(HostStage::host).toList()).size());
            assertEquals(List.of("L3(0,0,0,0)", "L3(0,0,0,1)", "L3(0,0,0,2)"),
                    placed.stages().stream().map(HostStage::host).toList());
            assertEquals(List.of(started.pids().get(1), started.pids().get(2), started.pids().get(2)),
                    placed.stages().stream().map(HostStage::pid).toList(), "each stage in its host's process");
            assertEquals(GgufModelReader.shapeOf(file).totalBytes(),
                    placed.stages().stream().mapToLong(HostStage::weightBytes).sum(), "the hosts hold the model once");
            assertEquals(PROMPT.length + NEW_TOKENS - 1, pipeline.tokens());
            for (long nanos : pipeline.stageNanos()) {
                assertTrue(nanos > 0, "every host timed its stage");
            }
        }

        // tensor parallel inside each host (2 cards), 2 hosts
        try (HostPipeline pipeline = pipelines.open(request(2, 2))) {
            assertEquals(expected, generate(pipeline, new float[PRESET.vocabulary()]), "2 hosts x TP 2");
            assertTrue(pipeline.plan().stages().get(0).linkSeconds() > 0, "allreduces inside a host are costed");
        }

        ClusterException tooMany = assertThrows(ClusterException.class, () -> pipelines.open(request(4, 1)));
        assertTrue(tooMany.getMessage().contains("--hosts 4") && tooMany.getMessage().contains("3 live hosts"),
                tooMany.getMessage());

        // kill -9 the process of hosts 1 and 2 while tokens run: a clear error naming a host, never a hang
        long victim = started.pids().get(2);
        HostPipeline pipeline = pipelines.open(request(3, 1));
        Thread killer = new Thread(() -> {
            while (pipeline.tokens() < 3) {
                Thread.onSpinWait();
            }
            ProcessHandle.of(victim).ifPresent(ProcessHandle::destroyForcibly);
        });
        killer.start();
        long begin = System.nanoTime();
        ClusterException died = assertThrows(ClusterException.class, () -> {
            float[] logits = new float[PRESET.vocabulary()];
            for (int i = 0; System.nanoTime() - begin < TimeUnit.SECONDS.toNanos(120); i++) {
                pipeline.forward(1 + i % 7, i % PRESET.contextLength(), logits);
            }
        });
        long millis = (System.nanoTime() - begin) / 1_000_000;
        killer.join();
        System.out.println("host process killed mid-run: after " + millis + " ms: " + died.getMessage());
        assertFalse(died.getMessage().contains("\n"), "one line: " + died.getMessage());
        assertTrue(died.getMessage().contains("L3(0,0,0,1)") || died.getMessage().contains("L3(0,0,0,2)"),
                "names the host: " + died.getMessage());
        pipeline.close();
        long dead = control.status().nodes().stream().filter(n -> n.coordinate().level() == Level.HOST
                && n.state() == NodeState.DEAD).count();
        assertEquals(2, dead, "status shows both hosts of the killed process dead");
    }
}
