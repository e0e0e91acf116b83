package org.popsolutions.spanker.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;
import org.popsolutions.spanker.model.llama.LlamaConfig;

/**
 * A tensor's bytes as the host sends them to a card: a row range is a view of the file (rows are contiguous); a
 * column range is gathered row by row into a buffer of its own, block-aligned; a norm vector goes as float32. The
 * host only moves and reformats bytes here; the cards compute.
 */
final class Weights {
    final String name;
    final GgmlType type;
    final int rows;
    final int cols;
    final ByteBuffer data;

    private Weights(String name, GgmlType type, int rows, int cols, ByteBuffer data) {
        this.name = name;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.data = data;
    }

    static Weights of(GgufFile file, String name) {
        GgufTensorInfo t = LlamaConfig.tensor(file, name);
        return new Weights(name, t.type(), Math.toIntExact(t.rows()), Math.toIntExact(t.rowLength()), file.data(t));
    }

    long rowBytes() {
        return type.bytesFor(cols);
    }

    Weights rows(int from, int to) {
        if (from < 0 || to > rows || from > to) {
            throw new IllegalArgumentException(name + ": rows [" + from + ", " + to + ") outside 0.." + rows);
        }
        long rb = rowBytes();
        ByteBuffer view = data.duplicate().clear().position((int) (from * rb)).limit((int) (to * rb)).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        return new Weights(name + "[rows " + from + ".." + to + ")", type, to - from, cols, view);
    }

    Weights columns(int from, int to) {
        if (from < 0 || to > cols || from > to) {
            throw new IllegalArgumentException(name + ": columns [" + from + ", " + to + ") outside 0.." + cols);
        }
        if (from == 0 && to == cols) {
            return this;
        }
        int block = type.blockSize();
        if (from % block != 0 || to % block != 0) {
            throw new InvalidConfigurationException(name + " is " + type.ggmlName() + " (blocks of " + block
                    + " values); the plan cuts its rows at columns " + from + ".." + to
                    + ", which is not on a block edge");
        }
        long rb = rowBytes();
        int start = (int) type.bytesFor(from);
        int length = (int) type.bytesFor(to - from);
        byte[] copy = new byte[Math.multiplyExact(length, rows)];
        for (int r = 0; r < rows; r++) {
            data.get((int) (r * rb) + start, copy, r * length, length);
        }
        return new Weights(name + "[cols " + from + ".." + to + ")", type, rows, to - from,
                ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN));
    }

    /** The bytes to send, from position 0 to the limit. */
    ByteBuffer bytes() {
        return data.duplicate().clear().limit((int) (rows * rowBytes()));
    }

    /** A 1-D tensor (a norm weight) as float32 bytes. */
    static ByteBuffer vector(GgufFile file, String name) {
        Weights w = of(file, name);
        int n = w.cols * w.rows;
        if (w.type == GgmlType.F32) {
            return w.bytes();
        }
        float[] v = new float[n];
        QuantFormats.of(w.type).dequantize(w.data, 0, v, 0, n);
        ByteBuffer b = ByteBuffer.allocate(n * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b;
    }
}
