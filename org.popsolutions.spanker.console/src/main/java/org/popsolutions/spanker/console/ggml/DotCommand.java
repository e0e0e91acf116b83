package org.popsolutions.spanker.console.ggml;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.PreparedActivation;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/** One weight row times one activation vector, in ggml mode and in float-activation mode. */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=dot")
public final class DotCommand extends AbstractConsoleCommand {
    public DotCommand() {
        super("dot", "dot product of a quantized weight row with float32 activations: ggml mode (activations"
                + " quantized as ggml's CPU backend does) and float-activation mode",
                List.of(OptionSpec.choice("type", CommandFiles.WEIGHT_FORMATS, "weight format", null),
                        OptionSpec.value("weights", "W.bin", "one row of ggml blocks", null),
                        OptionSpec.value("activations", "A.f32", "little-endian float32 activations", null)));
    }

    @Override
    protected Report run(Arguments arguments) {
        GgmlType type = CommandFiles.type(arguments);
        String weightsFile = arguments.requiredString("weights");
        String activationsFile = arguments.requiredString("activations");
        byte[] weights = CommandFiles.read(weightsFile);
        float[] activations = CommandFiles.readFloats(activationsFile);
        CommandFiles.checkBlocks(type, activations.length, activationsFile);
        long expected = type.bytesFor(activations.length);
        if (weights.length != expected) {
            throw new UsageException(weightsFile + " has " + weights.length + " bytes but " + activations.length
                    + " activations need " + expected + " bytes of " + type.ggmlName());
        }
        ByteBuffer w = ByteBuffer.wrap(weights).order(ByteOrder.LITTLE_ENDIAN);
        Kernels kernels = Kernels.best();
        float ggml = kernels.dot(w, 0, PreparedActivation.prepare(type, DotMode.GGML, activations));
        float floats = kernels.dot(w, 0, PreparedActivation.prepare(type, DotMode.FLOAT, activations));
        return new Report().line("ggml  " + ggml).line("float " + floats).put("ggml", ggml).put("float", floats);
    }
}
