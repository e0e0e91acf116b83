package org.popsolutions.spanker.console.ggml;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.LayerPlacement;
import org.popsolutions.spanker.api.plan.ModelPlanner;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plan.PlanOptions;
import org.popsolutions.spanker.api.runtime.InferenceService;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.ModelLoad;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.api.topology.TopologyService;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.PlanView;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;
import org.popsolutions.spanker.ggml.gguf.FileChecks;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.ModelSynth;
import org.popsolutions.spanker.model.llama.LlamaConfig;

/** What {@code run} and {@code logits} share: the cards, the plan, and a model placed on them. */
final class ModelRuns {
    static final List<OptionSpec> OPTIONS = List.of(
            OptionSpec.value("cards", "K", "run on K host-side cards instead of the registered ones", null),
            OptionSpec.choice("kind", List.of("ring", "mesh"), "cabling of the --cards cards", "ring"),
            OptionSpec.choice("mode", List.of("ggml", "float"), "activations quantized as ggml's CPU backend, or float",
                    "ggml"),
            OptionSpec.value("threads", "N", "row threads per card", "processors / cards"),
            OptionSpec.value("card-memory", "BYTES", "memory of each card, for the plan and of the --cards cards",
                    "4G (rev-A) for --cards, else the cards' own"),
            OptionSpec.value("context", "TOKENS", "tokens the KV caches hold", "the model's context length"),
            OptionSpec.value("algorithm", "A", "allreduce algorithm: auto, reference, ring, rd, hd, direct", "auto"));

    private ModelRuns() {
    }

    /** The model {@code run} and {@code serve} load: a file, or the tiny preset synthesized once into the cache. */
    static final OptionSpec MODEL = OptionSpec.value("model", "FILE.gguf", "llama-family GGUF model",
            "the tiny preset, synthesized once into the cache");

    /** The weight type of the cached tiny model. */
    static final GgmlType CACHED_TYPE = GgmlType.Q8_0;

    /** {@link #MODEL}'s file: the one given, else the cached tiny model. */
    static String modelPath(Arguments arguments) {
        return arguments.string("model").orElseGet(() -> cachedTinyModel(arguments).toString());
    }

    /**
     * The cached tiny model, synthesized on first use (written aside, then moved into place; a bar on the command's
     * terminal meanwhile).
     */
    static Path cachedTinyModel(Arguments arguments) {
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
                    CACHED_TYPE, 1, partial, ModelSynthCommand.progressBar(ModelSynth.TINY.parameters(),
                            arguments)));
        } catch (IOException e) {
            throw new DeviceException("cannot create the model cache " + dir + ": " + FileChecks.reason(e)
                    + " (set SPANKER_CACHE to a writable folder)", e);
        } catch (UsageException | DeviceException e) {
            throw new DeviceException(e.getMessage() + " (set SPANKER_CACHE to a writable folder)", e);
        }
        return model;
    }

    static List<OptionSpec> with(List<OptionSpec> own) {
        List<OptionSpec> all = new ArrayList<>(own);
        all.addAll(OPTIONS);
        return all;
    }

    /** A missing or unreadable model is the reader's one answer (exit 1, the path, the reason), as in plan and gguf. */
    static GgufFile open(String model) {
        return GgufReader.open(Path.of(model));
    }

    /** {@code --cards K} (and {@code --kind}) make K host-side cards; otherwise the registered topology. */
    static Topology topology(Arguments arguments, TopologyService service) {
        if (arguments.has("cards")) {
            int cards = arguments.requiredInteger("cards");
            if (cards < 1 || cards > 256) {
                throw new UsageException("option --cards must be within 1..256, got " + cards);
            }
            TopologyKind kind = arguments.choice("kind", TopologyKind.class).orElse(TopologyKind.RING);
            long memory = arguments.byteCount("card-memory").orElse(PlanOptions.REV_A_CARD_MEMORY);
            return Topology.uniform(kind, cards, "host", memory, BandwidthModel.INTERCARD_BW, 0);
        }
        if (arguments.has("kind")) {
            throw new UsageException("--kind applies to --cards; the registered cards keep their cabling (see"
                    + " 'topology --kind')");
        }
        return service.current();
    }

    static int context(Arguments arguments, LlamaConfig config) {
        int context = arguments.integer("context", config.contextLength());
        if (context < 1) {
            throw new UsageException("option --context must be >= 1, got " + context);
        }
        // the host-side cards compute in this JVM: a card holding a whole block keeps its key cache (float32) in one
        // Java buffer, and the KV caches of every block come out of this JVM's direct memory
        long keyCacheBytes = (long) Float.BYTES * context * config.kvDimension();
        String option = arguments.has("context") ? "--context " + context : "the model's context of " + context
                + " tokens";
        if (keyCacheBytes > CommandFiles.MAX_FILE_BYTES) {
            throw new UsageException(option + " needs key caches of " + keyCacheBytes + " bytes per block, above the"
                    + " " + CommandFiles.MAX_FILE_BYTES + " of one Java array; the largest context for this model is "
                    + CommandFiles.MAX_FILE_BYTES / (Float.BYTES * config.kvDimension()) + " (--context)");
        }
        CommandFiles.requireDirectMemory(2 * keyCacheBytes * config.layers(), "holding the KV caches of " + option
                + " (" + config.layers() + " blocks x " + config.kvDimension() + " keys and values per token)");
        return context;
    }

    static Plan plan(ModelPlanner planner, GgufFile file, Topology topology, Arguments arguments, int context) {
        // the cards' own memory unless the user plans for another (the cards still enforce theirs)
        long memory = arguments.byteCount("card-memory").orElse(topology.cards().stream()
                .mapToLong(org.popsolutions.spanker.api.topology.Card::memoryBytes).min()
                .orElse(PlanOptions.REV_A_CARD_MEMORY));
        return planner.plan(GgufModelReader.shapeOf(file), topology, new PlanOptions(memory, context));
    }

    /** The model to load with the options of the command line. */
    static ModelLoad load(Arguments arguments, String model, Plan plan, Topology topology, int context) {
        ActivationMode mode = arguments.string("mode").orElse("ggml").equals("float") ? ActivationMode.FLOAT
                : ActivationMode.GGML;
        int threads = arguments.integer("threads",
                Math.max(1, Runtime.getRuntime().availableProcessors() / plan.cards()));
        if (threads < 1 || threads > 1024) {
            throw new UsageException("option --threads must be within 1..1024, got " + threads);
        }
        CollectiveAlgorithm algorithm;
        try {
            algorithm = CollectiveAlgorithm.fromLabel(arguments.string("algorithm").orElse("auto"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("option --algorithm: " + e.getMessage());
        }
        return new ModelLoad(Path.of(model), plan, topology, mode, threads, context, algorithm);
    }

    /** The model placed on the cards by the inference service (the runtime bundle provides it). */
    static LoadedModel place(InferenceService inference, ModelLoad load) {
        return place(inference, load, org.popsolutions.spanker.api.runtime.LoadProgress.NONE);
    }

    /** As {@link #place(InferenceService, ModelLoad)}, telling {@code progress} how far the weights' transfer is. */
    static LoadedModel place(InferenceService inference, ModelLoad load,
            org.popsolutions.spanker.api.runtime.LoadProgress progress) {
        if (inference == null) {
            throw new InvalidConfigurationException("running a model needs the"
                    + " inference service: install org.popsolutions.spanker.runtime");
        }
        return inference.load(load, progress);
    }

    /** Blocks per strategy, e.g. {TensorParallel=20, Pipeline=2}. */
    static Map<String, Integer> strategyCounts(Plan plan) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (LayerPlacement l : plan.layers()) {
            counts.merge(l.strategy().name(), 1, Integer::sum);
        }
        return counts;
    }

    /**
     * How many times slower than the hardware the cards run (emulated cards dilated so the host's CPU keeps their
     * pace; 1 for the mock and real cards): the largest of the cards', by which measured times are divided.
     */
    static double dilation(Topology cards) {
        return cards.cards().stream().mapToDouble(org.popsolutions.spanker.api.topology.Card::timeDilation).max()
                .orElse(1);
    }

    /** The line that says measured times were scaled back, and what that flatters. */
    static String dilationLine(double k) {
        String times = k == Math.rint(k) ? Long.toString((long) k) : Double.toString(k);
        return "measured on cards dilated x" + times + " (every modelled time ran " + times + " times slower than"
                + " rev-A); measured times are divided by " + times + ", the host's own per-token work too, so it"
                + " counts " + times + " times less than it took";
    }

    static String seconds(double s) {
        return String.format(Locale.ROOT, "%.3e", s);
    }

    static String millis(double nanos) {
        return String.format(Locale.ROOT, "%.3f", nanos / 1e6);
    }

    /**
     * The rows of "predicted vs measured, seconds per token": each part of a token's time, predicted and measured
     * (null where it is not measured apart), with a note saying where a part is counted otherwise.
     */
    static Rows breakdown() {
        return new Rows("breakdown", "predicted vs measured, seconds per token", Column.of("part", ""),
                Column.of("predictedSeconds", "predicted", Unit.SCIENTIFIC),
                Column.of("measuredSeconds", "measured", Unit.SCIENTIFIC), Column.of("note", "note"));
    }

    /** The plan's headline and its per-card memory (planned and actually held). */
    static void describePlan(Report report, Plan plan, LoadedModel model) {
        Map<String, Integer> counts = strategyCounts(plan);
        // the plan's facts under the keys every command uses (PlanView), then what this run adds
        Map<String, Object> p = PlanView.json(plan);
        p.put("blocks", counts);
        StringBuilder blocks = new StringBuilder();
        counts.forEach((k, v) -> blocks.append(blocks.length() == 0 ? "" : ", ").append(v).append(" ").append(k));
        report.line("plan's blocks: " + blocks);
        Rows headline = new Rows("plan", "plan by '" + plan.strategy() + "' for " + plan.model() + " on "
                + plan.cards() + " cards (" + plan.cabling().label() + ")", Column.of("firstCard", "first card"),
                Column.of("outputCards", "output cards"),
                Column.of("secondsPerToken", "predicted s/token", Unit.SCIENTIFIC),
                Column.of("computeSecondsPerToken", "compute", Unit.SCIENTIFIC),
                Column.of("communicationSecondsPerToken", "links", Unit.SCIENTIFIC),
                Column.of("hostSecondsPerToken", "host", Unit.SCIENTIFIC),
                Column.of("loadSeconds", "load s", Unit.SCIENTIFIC)).as(Rows.Layout.FIELDS)
                .add(plan.firstCard(), plan.outputCards(), plan.secondsPerToken(), plan.computeSecondsPerToken(),
                        plan.communicationSecondsPerToken(), plan.hostSecondsPerToken(), plan.loadSeconds());
        report.rows(headline, p);
        long[] held = model.weightBytesPerCard();
        long[] kv = model.kvCacheBytesPerCard();
        Rows cards = new Rows("perCard", "bytes per card", Column.of("card", "card"),
                Column.of("plannedWeightBytes", "planned weights", Unit.BYTES),
                Column.of("heldWeightBytes", "held weights", Unit.BYTES), Column.of("kvCacheBytes", "KV cache", Unit.BYTES),
                Column.of("capacityBytes", "capacity", Unit.BYTES));
        for (int c = 0; c < plan.cards(); c++) {
            var load = plan.cardLoads().get(c);
            cards.add(c, load.weightBytes(), held[c], kv[c], load.capacityBytes());
        }
        report.rows(cards, p);
        report.put("plan", p);
    }
}
