package org.popsolutions.spanker.console.ggml;

import java.io.IOException;
import java.nio.file.Files;
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
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.card.CardProvider;
import org.popsolutions.spanker.api.cluster.HostPipelines;
import org.popsolutions.spanker.api.collective.CardCollectives;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.plan.ModelPlanner;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyService;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.ggml.gguf.FileChecks;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.model.llama.LlamaConfig;
import org.popsolutions.spanker.model.llama.ModelSynth;
import org.popsolutions.spanker.model.llama.Sampler;
import org.popsolutions.spanker.model.llama.Tokenizer;
import org.popsolutions.spanker.runtime.Generation;
import org.popsolutions.spanker.runtime.PlanExecutor;

/**
 * Generates text with a model placed on the cards by the active strategy's plan, and shows the plan, the
 * generated tokens, and measured against predicted time per token. Without {@code --model} it synthesizes the
 * {@code tiny} preset once into the cache (system property {@code spanker.cache}, else {@code $SPANKER_CACHE}, else
 * {@code ~/.cache/spanker}).
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=run")
public final class RunCommand extends AbstractConsoleCommand {
    static final String DEFAULT_PROMPT = "The sails of the ship";
    static final GgmlType CACHED_TYPE = GgmlType.Q8_0;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile ModelPlanner planner;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile TopologyService topology;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile CardCollectives collectives;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile CardProvider cardProvider;

    /** The cluster bundle's pipelines across hosts, for {@code --hosts}. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile HostPipelines hostPipelines;

    public RunCommand() {
        super("run", "generate tokens with a model split over the cards as the active strategy plans it; plan,"
                + " prediction and measurement side by side",
                ModelRuns.with(List.of(
                        OptionSpec.value("model", "FILE.gguf", "llama-family GGUF model",
                                "the tiny preset, synthesized once into the cache"),
                        OptionSpec.value("prompt", "TEXT", "prompt text (tokenized with the model's tokenizer)",
                                DEFAULT_PROMPT),
                        OptionSpec.value("tokens", "1,5,9", "prompt as token ids instead of text", null),
                        OptionSpec.value("n", "N", "tokens to generate", "16"),
                        OptionSpec.value("seed", "S", "sampling seed", "1"),
                        OptionSpec.value("temperature", "T", "0 = greedy", "0"),
                        OptionSpec.value("top-k", "K", "keep the K most likely tokens (0 = all)", "0"),
                        OptionSpec.value("top-p", "P", "keep the most likely tokens up to probability P", "1"),
                        OptionSpec.value(HostRuns.OPTION, "K", "a pipeline across K L3 hosts of the running cluster"
                                + " (cluster start); --cards is then each host's cards", null))));
    }

    /** The cached tiny model, synthesized on first use (written aside, then moved into place). */
    static Path cachedTinyModel() {
        String configured = System.getProperty("spanker.cache", System.getenv("SPANKER_CACHE"));
        Path dir = configured != null && !configured.isBlank() ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache", "spanker");
        Path model = dir.resolve("tiny-" + CACHED_TYPE.ggmlName() + "-seed1.gguf");
        if (Files.isRegularFile(model)) {
            return model;
        }
        try {
            Files.createDirectories(dir);
            OutputFile.of("the model cache", model.toString()).write(partial -> ModelSynth.write(ModelSynth.TINY,
                    CACHED_TYPE, 1, partial, ModelSynthCommand.progressBar(ModelSynth.TINY.parameters())));
        } catch (IOException e) {
            throw new DeviceException("cannot create the model cache " + dir + ": " + FileChecks.reason(e)
                    + " (set SPANKER_CACHE to a writable folder)", e);
        } catch (UsageException | DeviceException e) {
            throw new DeviceException(e.getMessage() + " (set SPANKER_CACHE to a writable folder)", e);
        }
        return model;
    }

    @Override
    protected Report run(Arguments arguments) {
        if (arguments.has("prompt") && arguments.has("tokens")) {
            throw new UsageException("give --prompt or --tokens, not both");
        }
        String modelPath = arguments.string("model").orElseGet(() -> cachedTinyModel().toString());
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
        Sampler sampler;
        try {
            sampler = new Sampler(arguments.decimal("temperature").orElse(0.0).floatValue(),
                    arguments.integer("top-k", 0), arguments.decimal("top-p").orElse(1.0).floatValue(),
                    arguments.integer("seed", 1));
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
        Topology cards = ModelRuns.topology(arguments, topology);
        Plan plan = ModelRuns.plan(planner, file, cards, arguments, context);
        Report report = new Report();
        Generation.Result result;
        PlanExecutor.Options options = ModelRuns.options(arguments, plan, context);
        String algorithm;
        try (PlanExecutor model = ModelRuns.load(file, plan, cards, cardProvider, collectives, options)) {
            int eos = tokenizer == null ? Tokenizer.of(file).eosToken() : tokenizer.eosToken();
            result = Generation.run(model, prompt, n, sampler, eos, null);
            ModelRuns.describePlan(report, plan, model);
            algorithm = model.lastAlgorithm() == null ? "none" : model.lastAlgorithm().label();
        }
        Tokenizer decoder = tokenizer != null ? tokenizer : Tokenizer.of(file);
        String text = decoder.decode(result.tokens());
        // with --n 0 or 1 no generated token is fed back: there is no generation speed, and the per-token
        // figures below are the prompt's
        boolean generationTimed = result.decode().tokens() > 0;
        String measuredOver = generationTimed ? "generation" : "prompt";
        PlanExecutor.Stats decode = generationTimed ? result.decode() : result.prompt();
        double perToken = decode.wallNanos() / (double) decode.tokens();
        double promptRate = result.prompt().tokens() / (result.prompt().wallNanos() / 1e9);
        double decodeRate = 1e9 / perToken;

        report.line("model " + modelPath + " (" + config.name() + "), " + options.mode().name().toLowerCase(Locale.ROOT)
                + " mode, " + options.threadsPerCard() + " thread(s) per card, allreduce " + algorithm);
        report.line("prompt tokens " + java.util.Arrays.toString(prompt));
        report.line("generated " + result.tokens() + (result.stopped() ? " (stopped at end of sequence)" : ""));
        report.line("text: " + text);
        report.line(String.format(Locale.ROOT, "prompt %.1f tokens/s, ", promptRate) + (generationTimed
                ? String.format(Locale.ROOT, "generation %.1f tokens/s (%d forward passes timed)", decodeRate,
                        decode.tokens())
                : "generation not timed (--n " + n + ": no generated token was fed back); per-token figures are the"
                        + " prompt's"));
        Report.TableBuilder perCard = Report.tableOf("per token (" + measuredOver + ")", "card", "compute ms",
                "share of wall");
        List<Map<String, Object>> cardJson = new ArrayList<>();
        for (int c = 0; c < decode.cardComputeNanos().length; c++) {
            double ns = decode.cardComputeNanos()[c] / (double) decode.tokens();
            perCard.row(c, ModelRuns.millis(ns), String.format(Locale.ROOT, "%.0f%%", 100 * ns / perToken));
            cardJson.add(Map.of("card", c, "computeSecondsPerToken", ns / 1e9));
        }
        report.table(perCard.build());
        report.table(Report.tableOf("predicted vs measured, seconds per token", "", "predicted", "measured")
                .row("total", ModelRuns.seconds(plan.secondsPerToken()), ModelRuns.seconds(perToken / 1e9))
                .row("compute", ModelRuns.seconds(plan.computeSecondsPerToken()), ModelRuns.seconds(
                        maxOf(decode.cardComputeNanos()) / (double) decode.tokens() / 1e9) + " (busiest card)")
                .row("collectives + hand-offs", ModelRuns.seconds(plan.communicationSecondsPerToken()),
                        "in the cards' programs (" + decode.collectives() / decode.tokens() + " allreduces, "
                                + decode.handOffs() / decode.tokens() + " hand-offs)")
                .row("host link", ModelRuns.seconds(plan.hostSecondsPerToken()), "- (in process)")
                .build());
        report.line("predicted times are for rev-A Sails (DDR " + "and LVDS links); measured ones are this host's"
                + " mock cards");

        Map<String, Object> timing = new LinkedHashMap<>();
        timing.put("promptTokensPerSecond", promptRate);
        if (generationTimed) {
            timing.put("tokensPerSecond", decodeRate);
        }
        timing.put("measuredOver", measuredOver);
        timing.put("measuredSecondsPerToken", perToken / 1e9);
        timing.put("predictedSecondsPerToken", plan.secondsPerToken());
        timing.put("allreducesPerToken", decode.collectives() / (double) decode.tokens());
        timing.put("handOffsPerToken", decode.handOffs() / (double) decode.tokens());
        timing.put("perCard", cardJson);
        return report.put("model", modelPath).put("mode", options.mode().name().toLowerCase(Locale.ROOT))
                .put("threadsPerCard", options.threadsPerCard()).put("allreduce", algorithm)
                .put("promptTokens", prompt).put("tokens", result.tokens()).put("text", text)
                .put("stopped", result.stopped()).put("timing", timing);
    }

    private static long maxOf(long[] v) {
        long m = 0;
        for (long x : v) {
            m = Math.max(m, x);
        }
        return m;
    }
}
