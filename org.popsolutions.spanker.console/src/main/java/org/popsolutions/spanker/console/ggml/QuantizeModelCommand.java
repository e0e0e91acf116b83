package org.popsolutions.spanker.console.ggml;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;
import org.popsolutions.spanker.ggml.gguf.GgufValue;
import org.popsolutions.spanker.ggml.gguf.GgufWriter;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * Rewrites a model with every 2-D weight in one format and everything else (norms) in F32, like
 * {@code llama-quantize --pure}. Weights are decoded from whatever computable type they have, row by row.
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=quantize-model")
public final class QuantizeModelCommand extends AbstractConsoleCommand {
    /** llama.cpp's general.file_type (LLAMA_FTYPE_*) for a pure model of each type. */
    static final Map<GgmlType, Integer> FILE_TYPES = Map.of(GgmlType.F32, 0, GgmlType.F16, 1, GgmlType.Q4_0, 2,
            GgmlType.Q4_1, 3, GgmlType.Q8_0, 7, GgmlType.Q4_K, 14, GgmlType.Q6_K, 18, GgmlType.BF16, 32);

    public QuantizeModelCommand() {
        super("quantize-model", "rewrite a GGUF model with every 2-D weight in --type and norms in f32 (like"
                + " llama-quantize --pure)",
                List.of(OptionSpec.value("in", "F.gguf", "source model", null),
                        OptionSpec.value("out", "Q.gguf", "quantized model to write", null),
                        OptionSpec.choice("type", CommandFiles.WEIGHT_FORMATS, "format of the 2-D weights", null)));
    }

    @Override
    protected Report run(Arguments arguments) {
        GgmlType target = CommandFiles.type(arguments);
        String in = arguments.requiredString("in");
        String out = arguments.requiredString("out");
        // the input is memory-mapped while the output is written: never the same file, by any name or link
        OutputFile output = OutputFile.of("--out", out).notSameAs("--in", in);
        GgufFile model = GgufReader.open(Path.of(in));
        GgufWriter writer = new GgufWriter().putAll(model.metadata());
        writer.put("general.file_type", GgufValue.u32(FILE_TYPES.get(target)));
        Rows perTensor = new Rows("perTensor", "quantize-model " + in + " -> " + out, Column.of("tensor", "tensor"),
                Column.of("from", "from"), Column.of("to", "to"), Column.of("bytes", "bytes"));
        long before = 0;
        long after = 0;
        int converted = 0;
        for (GgufTensorInfo t : model.tensors()) {
            GgmlType to = t.dimensions() == 2 && t.rowLength() % target.blockSize() == 0 ? target : GgmlType.F32;
            if (t.dimensions() == 2 && to != target) {
                throw new UsageException("tensor '" + t.name() + "' rows of " + t.rowLength() + " values cannot be "
                        + target.ggmlName() + " (blocks of " + target.blockSize() + ")");
            }
            ByteBuffer data = to == t.type() ? model.data(t) : convert(model, t, to);
            writer.tensor(t.name(), to, t.shape(), data);
            perTensor.add(t.name(), t.type().ggmlName(), to.ggmlName(), data.capacity());
            before += t.byteSize();
            after += data.capacity();
            converted += to == t.type() ? 0 : 1;
        }
        output.write(writer::write);
        return new Report().rows(perTensor)
                .line(converted + " of " + model.tensors().size() + " tensors converted; tensor bytes " + before
                        + " -> " + after)
                .put("in", in).put("out", out).put("type", target.ggmlName()).put("tensors", model.tensors().size())
                .put("converted", converted).put("bytesBefore", before).put("bytesAfter", after);
    }

    private static ByteBuffer convert(GgufFile model, GgufTensorInfo t, GgmlType to) {
        if (!t.type().computable()) {
            throw new UsageException("tensor '" + t.name() + "' is " + t.type().ggmlName()
                    + ", which this build cannot decode");
        }
        int rowLength = (int) t.rowLength();
        long rows = t.rows();
        long outBytes = to.bytesFor(t.elementCount());
        if (outBytes > Integer.MAX_VALUE) {
            throw new UsageException("tensor '" + t.name() + "' would be " + outBytes + " bytes; above 2 GiB");
        }
        ByteBuffer source = model.data(t);
        ByteBuffer result = ByteBuffer.allocate((int) outBytes).order(ByteOrder.LITTLE_ENDIAN);
        float[] row = new float[rowLength];
        long inRow = t.type().bytesFor(rowLength);
        long outRow = to.bytesFor(rowLength);
        for (long r = 0; r < rows; r++) {
            QuantFormats.of(t.type()).dequantize(source, (int) (r * inRow), row, 0, rowLength);
            QuantFormats.of(to).quantize(row, 0, result, (int) (r * outRow), rowLength);
        }
        return result;
    }
}
