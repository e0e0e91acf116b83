package org.popsolutions.spanker.console.ggml;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.cluster.HostPipeline;
import org.popsolutions.spanker.api.cluster.HostPipelineRequest;
import org.popsolutions.spanker.api.cluster.HostPipelines;
import org.popsolutions.spanker.api.cluster.HostPlan;
import org.popsolutions.spanker.api.cluster.HostStage;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;
import org.popsolutions.spanker.model.llama.LlamaConfig;
import org.popsolutions.spanker.model.llama.Sampler;

/**
 * {@code run --hosts K} and {@code plan --hosts K}: the model as a pipeline across K L3 hosts of the running cluster
 * ({@code cluster start}), each host a stage of contiguous blocks on {@code --cards} cards of its own, the hidden
 * state handed host to host over the cluster's data plane; the plan's stages and the hand-off cost beside the
 * measurement.
 */
public final class HostRuns {
    public static final String OPTION = "hosts";
    /**
     * With --hosts in Karaf: each host's cards. The launcher takes {@code --device} for itself and tells the cluster
     * bundle through its framework property, which is the default here.
     */
    /** For a plan across pods: hosts of one pod before the pipeline continues in the next. */
    public static final org.popsolutions.spanker.api.console.OptionSpec PODS_OPTION =
            org.popsolutions.spanker.api.console.OptionSpec.value("hosts-per-pod", "H", "with --hosts: plan the"
                    + " pipeline across pods of H hosts each, the hand-offs between pods costed (plan only)", null);
    public static final org.popsolutions.spanker.api.console.OptionSpec DEVICE_OPTION =
            org.popsolutions.spanker.api.console.OptionSpec.choice("device", List.of("mock", "sails"), "with --hosts:"
                    + " each host's cards (sails: the host's own emulated cards, started by the host)", null);
    private static final Duration TIMEOUT = Duration.ofSeconds(300);

    private HostRuns() {
    }

    public static HostPipelines require(HostPipelines service) {
        if (service == null) {
            throw new InvalidConfigurationException("--hosts needs the cluster bundle (org.popsolutions.spanker.cluster;"
                    + " in Karaf: feature:install spanker-cluster)");
        }
        return service;
    }

    public static HostPipelineRequest request(Arguments arguments, String model, int context) {
        for (String option : List.of("kind", "algorithm", "card-memory")) {
            if (arguments.has(option)) {
                throw new UsageException("--" + option + " does not apply with --hosts (each host's cards are a ring of"
                        + " rev-A mock cards)");
            }
        }
        int hosts = arguments.requiredInteger(OPTION);
        int cards = arguments.integer("cards", 1);
        if (hosts < 1 || hosts > 1024) {
            throw new UsageException("option --hosts must be within 1..1024, got " + hosts);
        }
        if (cards < 1 || cards > 256) {
            throw new UsageException("option --cards must be within 1..256 (cards per host with --hosts), got " + cards);
        }
        int threads = arguments.integer("threads", 1);
        if (threads < 1 || threads > 1024) {
            throw new UsageException("option --threads must be within 1..1024, got " + threads);
        }
        boolean floats = arguments.string("mode").orElse("ggml").equals("float");
        int hostsPerPod = arguments.integer("hosts-per-pod", 0);
        if (hostsPerPod < 0 || hostsPerPod > 1024 || arguments.has("hosts-per-pod") && hostsPerPod == 0) {
            throw new UsageException("option --hosts-per-pod must be within 1..1024, got " + hostsPerPod);
        }
        return new HostPipelineRequest(Path.of(model).toAbsolutePath().toString(), hosts, cards, context, floats,
                threads, TIMEOUT, arguments.string("device").orElse(null), hostsPerPod);
    }

    /** The stages with their prediction (and, once run, their measured time per token). */
    public static void describe(Report report, HostPlan plan, long[] stageNanos, int tokens) {
        Rows stages = new Rows("stages", "pipeline across " + plan.hosts() + " hosts for " + plan.model() + " ("
                + plan.cardsPerHost() + " card" + (plan.cardsPerHost() == 1 ? "" : "s") + " per host)",
                Column.of("stage", "stage"), Column.of("host", "host"), Column.of("pid", "pid"), Column.of("pod", "pod"),
                Column.of("firstBlock", "first block"), Column.of("endBlock", "end block"),
                Column.of("embedding", "embedding", Unit.MARK), Column.of("head", "head", Unit.MARK),
                Column.of("cards", "cards"), Column.of("weightBytes", "weights", Unit.BYTES),
                Column.of("kvCacheBytes", "KV cache", Unit.BYTES),
                Column.of("predictedComputeSeconds", "compute s", Unit.SCIENTIFIC),
                Column.of("predictedLinkSeconds", "links s", Unit.SCIENTIFIC),
                Column.of("predictedHandOffSeconds", "hand-off s", Unit.SCIENTIFIC),
                Column.of("predictedStageSeconds", "stage s", Unit.SCIENTIFIC),
                Column.of("measuredSecondsPerToken", "measured s", Unit.SCIENTIFIC));
        for (HostStage s : plan.stages()) {
            Double measured = stageNanos == null || tokens == 0 ? null : stageNanos[s.index()] / 1e9 / tokens;
            stages.add(s.index(), s.host(), s.pid(), s.pod(), s.firstBlock(), s.endBlock(), s.embedding(), s.head(),
                    s.cards(), s.weightBytes(), s.kvCacheBytes(), s.computeSeconds(), s.linkSeconds(),
                    s.handOffSeconds(), s.stageSeconds(), measured);
        }
        plan.notes().forEach(report::line);
        report.line(String.format(Locale.ROOT, "hand-off between hosts: %d bytes (the hidden state), predicted %s s"
                + " each (card to host, host to host, host to card at the host link's rate)%s, %d per token",
                plan.handOffBytes(), ModelRuns.seconds(plan.handOffSeconds()), plan.pods() > 1 ? ", " + ModelRuns
                        .seconds(plan.crossPodHandOffSeconds()) + " s between pods" : "", plan.handOffs()));
        report.line(String.format(Locale.ROOT, "one token through every stage: %s s predicted; slowest stage %s s"
                + " (the pipeline's rate with a token of another sequence in every stage: %.1f tokens/s), even"
                + " split's slowest %s s", ModelRuns.seconds(plan.secondsPerToken()),
                ModelRuns.seconds(plan.bottleneckSeconds()), 1 / plan.bottleneckSeconds(),
                ModelRuns.seconds(plan.evenSplitBottleneckSeconds())));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", plan.model());
        json.put("hosts", plan.hosts());
        json.put("cardsPerHost", plan.cardsPerHost());
        report.rows(stages, json);
        json.put("handOffBytes", plan.handOffBytes());
        json.put("handOffSeconds", plan.handOffSeconds());
        json.put("handOffsPerToken", plan.handOffs());
        json.put("predictedSecondsPerToken", plan.secondsPerToken());
        json.put("predictedComputeSeconds", plan.computeSeconds());
        json.put("predictedLinkSeconds", plan.linkSeconds());
        json.put("predictedHandOffSeconds", plan.handOffsSeconds());
        json.put("predictedHostSeconds", plan.hostSeconds());
        json.put("pods", plan.pods());
        json.put("crossPodHandOffSeconds", plan.crossPodHandOffSeconds());
        json.put("bottleneckSeconds", plan.bottleneckSeconds());
        json.put("evenSplitBottleneckSeconds", plan.evenSplitBottleneckSeconds());
        json.put("loadSeconds", plan.loadSeconds());
        json.put("notes", plan.notes());
        report.put("hostPlan", json);
    }

    /** Generates with the pipeline: the prompt token by token, then greedy (or sampled) tokens fed back. */
    static Report run(HostPipelines service, Arguments arguments, String modelPath, LlamaConfig config, int[] prompt,
            int n, Sampler sampler, int stopToken, int context, java.util.function.Function<List<Integer>, String> text) {
        HostPipelineRequest request = request(arguments, modelPath, context);
        Report report = new Report();
        List<Integer> tokens = new ArrayList<>();
        boolean stopped = false;
        long promptNanos;
        long decodeNanos;
        int decodeTokens;
        long[] stageNanos;
        HostPlan plan;
        try (HostPipeline pipeline = require(service).open(request)) {
            plan = pipeline.plan();
            float[] logits = new float[config.vocabulary()];
            int position = 0;
            for (int token : prompt) {
                pipeline.forward(token, position++, logits);
            }
            promptNanos = pipeline.wallNanos();
            pipeline.resetStats();
            for (int i = 0; i < n; i++) {
                int next = sampler.sample(logits);
                tokens.add(next);
                if (next == stopToken) {
                    stopped = true;
                    break;
                }
                if (i == n - 1) {
                    break;
                }
                pipeline.forward(next, position++, logits);
            }
            decodeTokens = pipeline.tokens();
            decodeNanos = pipeline.wallNanos();
            stageNanos = pipeline.stageNanos();
        }
        boolean timed = decodeTokens > 0;
        describe(report, plan, timed ? stageNanos : null, decodeTokens);
        double perToken = timed ? decodeNanos / 1e9 / decodeTokens : Double.NaN;
        double stagesPerToken = 0;
        for (long nanos : stageNanos) {
            stagesPerToken += timed ? nanos / 1e9 / decodeTokens : 0;
        }
        String generated = text.apply(tokens);
        report.line("model " + modelPath + " (" + config.name() + ") across " + plan.hosts() + " hosts, "
                + (request.floatActivations() ? "float" : "ggml") + " mode");
        report.line("prompt tokens " + java.util.Arrays.toString(prompt));
        report.line("generated " + tokens + (stopped ? " (stopped at end of sequence)" : ""));
        report.line("text: " + generated);
        double promptRate = prompt.length / (promptNanos / 1e9);
        report.line(String.format(Locale.ROOT, "prompt %.1f tokens/s, ", promptRate) + (timed
                ? String.format(Locale.ROOT, "generation %.1f tokens/s (%d forward passes timed)", 1 / perToken,
                        decodeTokens)
                : "generation not timed (--n " + n + ": no generated token was fed back)"));
        Rows breakdown = ModelRuns.breakdown()
                .add("total", plan.secondsPerToken(), timed ? perToken : null, null)
                .add("compute (stages in turn)", plan.computeSeconds(), timed ? stagesPerToken : null,
                        timed ? "the hosts' stages, with their host-link I/O" : null)
                .add("links inside hosts", plan.linkSeconds(), null, "in the stages")
                .add("hand-offs between hosts", plan.handOffsSeconds(), timed ? perToken - stagesPerToken : null,
                        timed ? "wall minus stages: hand-offs and orchestration" : null)
                .add("host link (token in, logits out)", plan.hostSeconds(), null, "in the stages");
        report.line("predicted times are for rev-A Sails and GbE between hosts; measured ones are the hosts' cards"
                + " named above (mock cards in the hosts' processes, or emulated ones) on this machine");
        Map<String, Object> timing = new LinkedHashMap<>();
        timing.put("promptTokensPerSecond", promptRate);
        if (timed) {
            timing.put("tokensPerSecond", 1 / perToken);
            timing.put("measuredSecondsPerToken", perToken);
            timing.put("measuredStageSecondsPerToken", stagesPerToken);
        }
        timing.put("predictedSecondsPerToken", plan.secondsPerToken());
        report.rows(breakdown, timing);
        return report.put("model", modelPath).put("mode", request.floatActivations() ? "float" : "ggml")
                .put("hosts", plan.hosts()).put("promptTokens", prompt).put("tokens", tokens).put("text", generated)
                .put("stopped", stopped).put("timing", timing);
    }
}
