package org.popsolutions.spanker.console.ggml;

import java.util.ArrayList;
import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.plan.ModelPlanner;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.runtime.InferenceService;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.PassTimings;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyService;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.model.llama.LlamaConfig;
import org.popsolutions.spanker.model.llama.Sampler;

/**
 * Feeds token ids at positions 0, 1, … (no tokenizer, no BOS added) through the planned cards and writes the raw
 * float32 logits, one row of vocabulary size per position, little-endian.
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=logits")
public final class LogitsCommand extends AbstractConsoleCommand {
    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile ModelPlanner planner;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile TopologyService topology;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile InferenceService inference;

    public LogitsCommand() {
        super("logits", "write raw float32 logits (one row per position) of token ids fed at positions 0..n-1",
                ModelRuns.with(List.of(OptionSpec.value("model", "FILE.gguf", "llama-family GGUF model", null),
                        OptionSpec.value("tokens", "1,5,9,42", "token ids, comma-separated", null),
                        OptionSpec.value("out", "FILE.f32", "where to write the logits", null))));
    }

    static int[] tokens(String text, int vocabulary) {
        List<Integer> ids = new ArrayList<>();
        for (String part : text.split(",")) {
            try {
                int id = Integer.parseInt(part.trim());
                if (id < 0 || id >= vocabulary) {
                    throw new UsageException("token id " + id + " is outside the vocabulary 0.." + (vocabulary - 1));
                }
                ids.add(id);
            } catch (NumberFormatException e) {
                throw new UsageException("--tokens must be comma-separated integers, got '" + part.trim() + "'");
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    protected Report run(Arguments arguments) {
        String modelPath = arguments.requiredString("model");
        String out = arguments.requiredString("out");
        OutputFile output = OutputFile.of("--out", out).notSameAs("--model", modelPath);
        GgufFile file = ModelRuns.open(modelPath);
        LlamaConfig config = LlamaConfig.of(file);
        int[] ids = tokens(arguments.requiredString("tokens"), config.vocabulary());
        int context = ModelRuns.context(arguments, config);
        if (ids.length > context) {
            throw new UsageException(ids.length + " tokens exceed the context of " + context);
        }
        Topology cards = ModelRuns.topology(arguments, topology);
        Plan plan = ModelRuns.plan(planner, file, cards, arguments, context);
        long logits = (long) ids.length * config.vocabulary();
        if (logits > CommandFiles.MAX_FILE_BYTES / Float.BYTES) {
            throw new UsageException(ids.length + " positions x " + config.vocabulary() + " logits exceed the 2 GiB"
                    + " this command writes at once; give fewer --tokens");
        }
        CommandFiles.requireHeap(logits * Float.BYTES * 2, ids.length + " positions of logits");
        float[] all = new float[(int) logits];
        List<Integer> argmax = new ArrayList<>();
        PassTimings stats;
        Report report = new Report();
        try (LoadedModel model = ModelRuns.place(inference, ModelRuns.load(arguments, modelPath, plan, cards,
                context))) {
            for (int pos = 0; pos < ids.length; pos++) {
                float[] row = model.logits(ids[pos], pos);
                System.arraycopy(row, 0, all, pos * row.length, row.length);
                argmax.add(Sampler.argmax(row));
            }
            stats = model.logitsTimings();
            ModelRuns.describePlan(report, plan, model);
        }
        output.write(CommandFiles.floatBytes(all));
        return report.line("wrote " + ids.length + " x " + config.vocabulary() + " float32 logits to " + out
                + "; argmax per position " + argmax + "; " + ModelRuns.millis(stats.wallNanos() / (double) ids.length)
                + " ms/token")
                .put("out", out).put("positions", ids.length).put("vocabulary", config.vocabulary())
                .put("argmax", argmax).put("secondsPerToken", stats.wallNanos() / 1e9 / ids.length);
    }
}
