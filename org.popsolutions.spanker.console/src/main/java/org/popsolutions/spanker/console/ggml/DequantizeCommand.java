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

/** ggml blocks back to raw little-endian float32, as ggml decodes them. */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=dequantize")
public final class DequantizeCommand extends AbstractConsoleCommand {
    public DequantizeCommand() {
        super("dequantize", "decode ggml blocks to raw float32 values, bit-exact with ggml",
                List.of(OptionSpec.choice("type", CommandFiles.FORMATS, "format of the input", null),
                        OptionSpec.value("in", "X.bin", "ggml blocks input", null),
                        OptionSpec.value("out", "X.f32", "little-endian float32 output", null)));
    }

    @Override
    protected Report run(Arguments arguments) {
        GgmlType type = CommandFiles.type(arguments);
        String in = arguments.requiredString("in");
        String out = arguments.requiredString("out");
        byte[] blocks = CommandFiles.read(in);
        CommandFiles.checkWholeBlocks(type, blocks.length, in);
        float[] values = QuantFormats.of(type).dequantize(blocks);
        CommandFiles.write(out, CommandFiles.floatBytes(values));
        return new Report().line("dequantized " + blocks.length + " bytes of " + type.ggmlName() + " to "
                + values.length + " float32 values in " + out).put("type", type.ggmlName())
                .put("values", values.length).put("out", out);
    }
}
