package org.popsolutions.spanker.console.ggml;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/** Raw little-endian float32 values to ggml blocks with ggml's reference quantizer (hardware test vectors). */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=quantize")
public final class QuantizeCommand extends AbstractConsoleCommand {
    public QuantizeCommand() {
        super("quantize", "quantize raw float32 values to a ggml format, bit-exact with ggml's reference quantizer",
                List.of(OptionSpec.choice("type", CommandFiles.FORMATS, "target format", null),
                        OptionSpec.value("in", "X.f32", "little-endian float32 input", null),
                        OptionSpec.value("out", "X.bin", "ggml blocks output", null)));
    }

    @Override
    protected Report run(Arguments arguments) {
        GgmlType type = CommandFiles.type(arguments);
        String in = arguments.requiredString("in");
        String out = arguments.requiredString("out");
        float[] values = CommandFiles.readFloats(in);
        CommandFiles.checkBlocks(type, values.length, in);
        byte[] blocks = QuantFormats.of(type).quantize(values);
        CommandFiles.write(out, blocks);
        return new Report().line("quantized " + values.length + " values to " + type.ggmlName() + ": " + blocks.length
                + " bytes in " + out).put("type", type.ggmlName()).put("values", values.length)
                .put("bytes", blocks.length).put("out", out);
    }
}
