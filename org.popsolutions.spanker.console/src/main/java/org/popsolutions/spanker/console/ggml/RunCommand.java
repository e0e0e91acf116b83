package org.popsolutions.spanker.console.ggml;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.cluster.HostPipelines;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.plan.ModelPlanner;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plot.ChartWriter;
import org.popsolutions.spanker.api.runtime.FinishReason;
import org.popsolutions.spanker.api.runtime.GenerationRequest;
import org.popsolutions.spanker.api.runtime.GenerationResult;
import org.popsolutions.spanker.api.runtime.InferenceService;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.ModelLoad;
import org.popsolutions.spanker.api.runtime.PassTimings;
import org.popsolutions.spanker.api.runtime.Sampling;
import org.popsolutions.spanker.api.runtime.TokenEvent;
import org.popsolutions.spanker.api.runtime.TokenListener;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyService;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.ProgressBar;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.plot.charts.TokenCharts;
import org.popsolutions.spanker.model.llama.LlamaConfig;
import org.popsolutions.spanker.model.llama.Sampler;
import org.popsolutions.spanker.model.llama.Tokenizer;
import org.popsolutions.spanker.plot.charts.TokenCharts;

/**
 * Generates text with a model placed on the cards by the active strategy's plan, and shows the plan, the
 * generated tokens, and measured against predicted time per token. Without {@code --model} it synthesizes the
 * {@code tiny} preset once into the cache (system property {@code spanker.cache}, else {@code $SPANKER_CACHE}, else
 * {@code ~/.cache/spanker}).
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=run")
public final class RunCommand extends AbstractConsoleCommand {
    static final String DEFAULT_PROMPT = "The sails of the ship";

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile ModelPlanner planner;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile TopologyService topology;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile InferenceService inference;

    /** Draws --plot; absent when the plot bundle is not installed. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ChartWriter charts;

    /** Where generated text goes as it comes (people's output only; {@code --json} prints one document at the end). */
    volatile PrintStream tokensOut;

    /** The cluster bundle's pipelines across hosts, for {@code --hosts}. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile HostPipelines hostPipelines;

    public RunCommand() {
        super("run", "generate tokens with a model split over the cards as the active strategy plans it; plan,"
                + " prediction and measurement side by side",
                ModelRuns.with(List.of(
                        ModelRuns.MODEL,
                        OptionSpec.value("prompt", "TEXT", "prompt text (tokenized with the model's tokenizer)",
                                DEFAULT_PROMPT),
                        OptionSpec.value("tokens", "1,5,9", "prompt as token ids instead of text", null),
                        OptionSpec.value("n", "N", "tokens to generate", "16"),
                        OptionSpec.value("seed", "S", "sampling seed", "1"),
                        OptionSpec.value("temperature", "T", "0 = greedy", "0"),
                        OptionSpec.value("top-k", "K", "keep the K most likely tokens (0 = all)", "0"),
                        OptionSpec.value("top-p", "P", "keep the most likely tokens up to probability P", "1"),
                        OptionSpec.value("plot", "FILE.svg", "draw each token's time, measured against predicted"
                                + " (SVG)", null),
                        MeanSd.OPTION,
                        OptionSpec.value(HostRuns.OPTION, "K", "a pipeline across K L3 hosts of the running cluster"
                                + " (cluster start); --cards is then each host's cards", null),
                        HostRuns.DEVICE_OPTION, HostRuns.PODS_OPTION)));
    }

    @Override
    protected Report run(Arguments arguments) {
        if (arguments.has("prompt") && arguments.has("tokens")) {
            throw new UsageException("give --prompt or --tokens, not both");
        }
        Path plot = arguments.string("plot").map(Path::of).orElse(null);
        ChartWriter chartWriter = charts;
        if (plot != null && chartWriter == null) {
            throw new org.popsolutions.spanker.api.InvalidConfigurationException(
                    "--plot needs the chart writer of the org.popsolutions.spanker.plot bundle, which is not installed");
        }
        String modelPath = ModelRuns.modelPath(arguments);
        GgufFile file = ModelRuns.open(modelPath);
        LlamaConfig config = LlamaConfig.of(file);
        int n = arguments.integer("n", 16);
        if (n < 0) {
            throw new UsageException("option --n must be >= 0, got " + n);
        }
        Tokenizer tokenizer = arguments.has("tokens") ? null : Tokenizer.of(file);
        int[] prompt = tokenizer == null ? LogitsCommand.tokens(arguments.requiredString("tokens"), config.vocabulary())
                : tokenizer.encode(arguments.string("prompt").orElse(DEFAULT_PROMPT), tokenizer.addsBos());
        if (prompt.length == 0) {
            throw new UsageException("the prompt is empty");
        }
        Sampling sampling = new Sampling(arguments.decimal("temperature").orElse(0.0),
                arguments.integer("top-k", 0), arguments.decimal("top-p").orElse(1.0), arguments.integer("seed", 1));
        Sampler sampler;
        try {
            sampler = new Sampler((float) sampling.temperature(), sampling.topK(), (float) sampling.topP(),
                    sampling.seed());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        int context = ModelRuns.context(arguments, config);
        if (prompt.length + Math.max(0L, n - 1L) > context) {
            throw new UsageException(prompt.length + " prompt tokens and " + n + " new ones exceed the context of "
                    + context + " tokens (--context)");
        }
        if (arguments.has(HostRuns.OPTION)) {
            Tokenizer decoder = tokenizer != null ? tokenizer : Tokenizer.of(file);
            return HostRuns.run(hostPipelines, arguments, modelPath, config, prompt, n, sampler, decoder.eosToken(),
                    context, decoder::decode);
        }
        if (arguments.has("hosts-per-pod")) {
            throw new UsageException("--hosts-per-pod goes with --hosts");
        }
        if (arguments.has("device")) {
            throw new UsageException("--device here chooses the cards of the hosts of --hosts; without it, start"
                    + " the console on the device you want (launcher: ./spanker --device sails run ...)");
        }
        Topology cards = ModelRuns.topology(arguments, topology);
        Plan plan = ModelRuns.plan(planner, file, cards, arguments, context);
        ModelLoad load = ModelRuns.load(arguments, modelPath, plan, cards, context);
        Report report = new Report();
        GenerationResult result;
        String algorithm;
        double loadSeconds;
        double transferSeconds;
        List<TokenEvent> told = new ArrayList<>();
        int repetitions = MeanSd.repetitions(arguments);
        double[] promptRates = new double[repetitions];
        double[] decodeRates = new double[repetitions];
        // people see the text as it is generated, as llama-cli shows it; a JSON consumer gets one document
        // on the command's terminal when the surface gave one (the launcher's, the Karaf session's)
        PrintWriter stream = arguments.flag(JSON.name()) ? null : tokensOut != null ? new PrintWriter(tokensOut)
                : arguments.terminal() != null ? arguments.terminal().writer() : new PrintWriter(System.out);
        // the weights' transfer over the host link, drawn on an interactive terminal only
        ProgressBar loading = ProgressBar.ofBytes("loading", arguments.terminal(), arguments.flag(JSON.name()));
        LoadedModel placed;
        try {
            placed = ModelRuns.place(inference, load, loading::update);
        } finally {
            loading.close();
        }
        try (LoadedModel model = placed) {
            loadSeconds = model.loadSeconds();
            transferSeconds = model.weightTransferSeconds();
            if (stream != null) {
                stream.print(model.detokenize(java.util.Arrays.stream(prompt).boxed().toList()));
                stream.flush();
            }
            TokenListener listener = event -> {
                told.add(event);
                if (stream != null) {
                    stream.print(event.text());
                    stream.flush();
                }
            };
            try {
                result = model.generate(new GenerationRequest(prompt, n, sampling), listener);
                rates(result, 0, promptRates, decodeRates);
                // llama-bench's habit: the same run again, only timed (the text was shown once)
                for (int r = 1; r < repetitions; r++) {
                    rates(model.generate(new GenerationRequest(prompt, n, sampling), null), r, promptRates,
                            decodeRates);
                }
            } finally {
                if (stream != null) {
                    stream.println();
                    stream.flush();
                }
            }
            ModelRuns.describePlan(report, plan, model);
            algorithm = model.allreduceAlgorithm() == null ? "none" : model.allreduceAlgorithm().label();
        }
        String text = result.text();
        boolean stopped = result.finish() == FinishReason.STOP;
        // with --n 0 or 1 no generated token is fed back: there is no generation speed, and the per-token
        // figures below are the prompt's
        boolean generationTimed = result.decode().tokens() > 0;
        String measuredOver = generationTimed ? "generation" : "prompt";
        PassTimings decode = generationTimed ? result.decode() : result.prompt();
        // cards dilated K times run every modelled time K times slower: what was measured on them, divided by K,
        // reads as the hardware's (the host's own work is divided too, which flatters it K times)
        double dilation = ModelRuns.dilation(cards);
        double perToken = decode.wallNanos() / (double) decode.tokens() / dilation;
        // the host's own part of the load (reading the file, placing, allocating, building programs) ran at its full
        // speed on a dilated fleet too: dividing it by K would count it K times less than beside rev-A cards
        double hostLoadSeconds = Double.isNaN(transferSeconds) ? Double.NaN : loadSeconds - transferSeconds;
        loadSeconds /= dilation;
        transferSeconds /= dilation;
        for (int r = 0; r < repetitions; r++) {
            promptRates[r] *= dilation;
            decodeRates[r] *= dilation;
        }
        MeanSd promptRate = MeanSd.of(promptRates);
        MeanSd decodeRate = MeanSd.of(decodeRates);

        report.line("model " + modelPath + " (" + config.name() + "), " + load.mode().name().toLowerCase(Locale.ROOT)
                + " mode, " + load.threadsPerCard() + " thread(s) per card, allreduce " + algorithm);
        report.line(String.format(Locale.ROOT, "loaded in %.3f s (cards opened, shards placed, decode and"
                + " prompt programs built and prepared, decode steps run until compiled, as llama.cpp's --warmup, on"
                + " undilated cards; predicted %.3f s for rev-A Sails, the weights' transfer)", loadSeconds,
                plan.loadSeconds()));
        if (!Double.isNaN(transferSeconds)) {
            report.line(String.format(Locale.ROOT, "the weights' transfer %.3f s (first weight write to the cards'"
                    + " last answer; predicted %.3f s), the host's own work %.3f s%s", transferSeconds,
                    plan.loadSeconds(), hostLoadSeconds, dilation != 1 ? " (real time: the host is not dilated)" : ""));
        }
        report.line("prompt tokens " + java.util.Arrays.toString(prompt));
        report.line("generated " + result.tokens() + (stopped ? " (stopped at end of sequence)" : ""));
        report.line("text: " + text);
        report.line("prompt " + promptRate.format("%.1f") + " tokens/s, " + (generationTimed
                ? "generation " + decodeRate.format("%.1f") + " tokens/s (" + decode.tokens() + " forward passes timed"
                        + (repetitions > 1 ? ", mean ± sd of " + repetitions + " repetitions" : "") + ")"
                : "generation not timed (--n " + n + ": no generated token was fed back); per-token figures are the"
                        + " prompt's"));
        Rows perCard = new Rows("perCard", "per token (" + measuredOver + ")", Column.of("card", "card"),
                Column.of("computeSecondsPerToken", "compute", Unit.SECONDS),
                Column.of("shareOfWall", "share of wall", Unit.PERCENT));
        for (int c = 0; c < decode.cardComputeNanos().length; c++) {
            double ns = decode.cardComputeNanos()[c] / (double) decode.tokens() / dilation;
            perCard.add(c, ns / 1e9, ns / perToken);
        }
        // The rows add up: the busiest card's busy time (its programs, collectives and hand-offs included) and
        // what the host does besides (sampling, reading logits back, submitting programs, waiting) make the total.
        double busiestSeconds = maxOf(decode.cardComputeNanos()) / (double) decode.tokens() / 1e9 / dilation;
        double otherSeconds = Math.max(0, perToken / 1e9 - busiestSeconds);
        String devices = String.join(", ", cards.cards().stream().map(c -> c.provider()).distinct().toList());
        Rows breakdown = ModelRuns.breakdown()
                .add("total", plan.secondsPerToken(), perToken / 1e9, null)
                .add("compute", plan.computeSecondsPerToken(), busiestSeconds,
                        "busiest card, with its collectives and hand-offs")
                .add("collectives + hand-offs", plan.communicationSecondsPerToken(), null, "in the cards' programs ("
                        + decode.collectives() / decode.tokens() + " allreduces, " + decode.handOffs() / decode.tokens()
                        + " hand-offs)")
                .add("host link", plan.hostSecondsPerToken(), null, "in other")
                .add("other", null, otherSeconds, "host: sampling, logits, waiting");
        report.line("predicted times are for rev-A Sails (DDR and LVDS links); measured ones are this run's cards ("
                + devices + ")");
        if (dilation != 1) {
            report.line(ModelRuns.dilationLine(dilation));
        }

        if (plot != null) {
            chartWriter.writeSvg(List.of(TokenCharts.perToken(told, plan)), plot);
            report.line("plot: " + plot);
            report.put("plot", plot.toString());
        }
        Map<String, Object> timing = new LinkedHashMap<>();
        timing.put("promptTokensPerSecond", promptRate.mean());
        timing.put("repetitions", repetitions);
        timing.put("promptTokensPerSecondSd", promptRate.sd());
        if (generationTimed) {
            timing.put("tokensPerSecond", decodeRate.mean());
            timing.put("tokensPerSecondSd", decodeRate.sd());
        }
        timing.put("measuredOver", measuredOver);
        timing.put("loadSeconds", loadSeconds);
        timing.put("predictedLoadSeconds", plan.loadSeconds());
        if (!Double.isNaN(transferSeconds)) {
            timing.put("loadTransferSeconds", transferSeconds);
            timing.put("loadHostSeconds", hostLoadSeconds);
        }
        timing.put("measuredSecondsPerToken", perToken / 1e9);
        timing.put("predictedSecondsPerToken", plan.secondsPerToken());
        timing.put("busiestCardSecondsPerToken", busiestSeconds);
        timing.put("otherSecondsPerToken", otherSeconds);
        timing.put("allreducesPerToken", decode.collectives() / (double) decode.tokens());
        timing.put("handOffsPerToken", decode.handOffs() / (double) decode.tokens());
        timing.put("dilation", dilation);
        report.rows(perCard, timing).rows(breakdown, timing);
        return report.put("model", modelPath).put("mode", load.mode().name().toLowerCase(Locale.ROOT))
                .put("threadsPerCard", load.threadsPerCard()).put("allreduce", algorithm)
                .put("promptTokens", prompt).put("tokens", result.tokens()).put("text", text)
                .put("stopped", stopped).put("timing", timing);
    }

    /** One repetition's prompt and generation rates (generation over the prompt's passes when nothing was fed back). */
    private static void rates(GenerationResult result, int r, double[] promptRates, double[] decodeRates) {
        PassTimings prompt = result.prompt();
        PassTimings decode = result.decode().tokens() > 0 ? result.decode() : prompt;
        promptRates[r] = prompt.tokens() / (prompt.wallNanos() / 1e9);
        decodeRates[r] = decode.tokens() / (decode.wallNanos() / 1e9);
    }

    private static long maxOf(long[] v) {
        long m = 0;
        for (long x : v) {
            m = Math.max(m, x);
        }
        return m;
    }
}
