package org.popsolutions.spanker.console.ggml;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.LongConsumer;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.ProgressBar;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.model.llama.ModelSynth;

/** Writes a llama model of a preset's shapes with seeded random weights and a tokenizer; nothing is downloaded. */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=model-synth")
public final class ModelSynthCommand extends AbstractConsoleCommand {
    public ModelSynthCommand() {
        super("model-synth", "write a shape-faithful llama GGUF with seeded random weights (no download)",
                List.of(OptionSpec.choice("preset", List.of("tinyllama-1.1b", "tiny", "llama-7b"), "model shapes", null),
                        OptionSpec.choice("type", CommandFiles.WEIGHT_FORMATS, "format of the 2-D weights", "q8_0"),
                        OptionSpec.value("out", "FILE.gguf", "model file to write", null),
                        OptionSpec.value("seed", "S", "random seed", "1"),
                        OptionSpec.flag("shapes-only", "zero weights left as a hole in the file: shapes for the"
                                + " planner (plan --compare) in no time and no disk space")));
    }

    static ModelSynth.Preset preset(String name) {
        return ModelSynth.presets().stream().filter(p -> p.name().equals(name)).findFirst()
                .orElseThrow(() -> new UsageException("unknown --preset " + name));
    }

    @Override
    protected Report run(Arguments arguments) {
        ModelSynth.Preset preset = preset(arguments.requiredString("preset"));
        GgmlType type = GgmlType.byName(arguments.string("type").orElse("q8_0")).orElseThrow();
        Path out = Path.of(arguments.requiredString("out"));
        long seed = arguments.integer("seed", 1);
        OutputFile output = OutputFile.of("--out", arguments.requiredString("out"));
        long start = System.nanoTime();
        try {
            output.write(partial -> {
                if (arguments.flag("shapes-only")) {
                    ModelSynth.writeShapes(preset, type, partial);
                } else {
                    ModelSynth.write(preset, type, seed, partial, progressBar(preset.parameters(), arguments));
                }
            });
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long bytes = out.toFile().length();
        return new Report().line(String.format(Locale.ROOT, "wrote %s: %s %s, %,d parameters, %,d bytes in %.1f s",
                out, preset.name(), type.ggmlName(), preset.parameters(), bytes, seconds))
                .put("out", out.toString()).put("preset", preset.name()).put("type", type.ggmlName())
                .put("parameters", preset.parameters()).put("bytes", bytes).put("seed", seed).put("seconds", seconds)
                .put("shapesOnly", arguments.flag("shapes-only"));
    }

    /** A bar on the command's terminal, only when it is interactive (scripts and JSON consumers see nothing). */
    static LongConsumer progressBar(long total, Arguments arguments) {
        ProgressBar bar = ProgressBar.ofWork("synthesizing", arguments.terminal(), arguments.flag(JSON.name()));
        return done -> bar.update(done, total);
    }
}
