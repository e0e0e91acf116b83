package org.popsolutions.spanker.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormat;
import org.popsolutions.spanker.ggml.quant.QuantFormats;
import org.popsolutions.spanker.model.llama.LlamaConfig;
import org.popsolutions.spanker.model.llama.NonFiniteValues;

/**
 * A range of a tensor as the host sends it to a card: rows [firstRow, firstRow + rows) and, within each, the
 * columns [firstColumn, firstColumn + cols) (block-aligned). Only the description is held: the bytes are read from
 * the file a chunk at a time while they are sent ({@link #stream}), so the host never holds a tensor, and never
 * touches a mapping of the file whose pages would stay in its resident memory. The host only moves bytes here; the
 * cards compute.
 */
final class Weights {
    /** What the host buffers at a time while sending weights (reused for every tensor). */
    static final int CHUNK_BYTES = 4 << 20;

    /** Receives a tensor's bytes in order: {@code bytes} (position to limit) go at {@code offset} of the range. */
    interface Sink {
        void accept(long offset, ByteBuffer bytes);
    }

    final String name;
    final GgmlType type;
    final int rows;
    final int cols;
    private final GgufTensorInfo tensor;
    private final int firstRow;
    private final int firstColumn;

    private Weights(String name, GgufTensorInfo tensor, int firstRow, int rows, int firstColumn, int cols) {
        this.name = name;
        this.tensor = tensor;
        this.type = tensor.type();
        this.firstRow = firstRow;
        this.rows = rows;
        this.firstColumn = firstColumn;
        this.cols = cols;
    }

    static Weights of(GgufFile file, String name) {
        GgufTensorInfo t = LlamaConfig.tensor(file, name);
        return new Weights(name, t, 0, Math.toIntExact(t.rows()), 0, Math.toIntExact(t.rowLength()));
    }

    private long fullRowBytes() {
        return type.bytesFor(tensor.rowLength());
    }

    long rowBytes() {
        return type.bytesFor(cols);
    }

    /** Bytes this range occupies on a card. */
    long bytes() {
        return rows * rowBytes();
    }

    Weights rows(int from, int to) {
        if (from < 0 || to > rows || from > to) {
            throw new IllegalArgumentException(name + ": rows [" + from + ", " + to + ") outside 0.." + rows);
        }
        return new Weights(name + "[rows " + from + ".." + to + ")", tensor, firstRow + from, to - from, firstColumn,
                cols);
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
        return new Weights(name + "[cols " + from + ".." + to + ")", tensor, firstRow, rows, firstColumn + from,
                to - from);
    }

    /**
     * Reads the range from the file and hands it to {@code sink} in pieces of at most {@code chunk}'s capacity (a
     * column range is gathered row by row through {@code staging}, which holds whole rows). Both buffers are the
     * caller's and reused; nothing here allocates per tensor.
     */
    void stream(GgufFile.TensorReader reader, ByteBuffer chunk, ByteBuffer staging, Sink sink) {
        long full = fullRowBytes();
        long rowBytes = rowBytes();
        if (rowBytes == full) {
            long start = firstRow * full;
            long total = bytes();
            for (long done = 0; done < total; ) {
                int n = (int) Math.min(chunk.capacity(), total - done);
                if (n < total - done) {
                    n -= n % type.typeSize();
                }
                chunk.clear().limit(n);
                reader.read(tensor, start + done, chunk);
                requireFinite(chunk.flip(), done);
                sink.accept(done, chunk);
                done += n;
            }
            return;
        }
        if (staging.capacity() < full || chunk.capacity() < rowBytes) {
            throw new IllegalStateException("a row of " + name + " (" + full + " bytes) does not fit the buffers");
        }
        long skip = type.bytesFor(firstColumn);
        int rowsPerRead = (int) Math.min(staging.capacity() / full, chunk.capacity() / rowBytes);
        long offset = 0;
        for (int r = 0; r < rows; r += rowsPerRead) {
            int n = Math.min(rowsPerRead, rows - r);
            staging.clear().limit((int) (n * full));
            reader.read(tensor, (firstRow + r) * full, staging);
            chunk.clear();
            for (int i = 0; i < n; i++) {
                int from = (int) (i * full + skip);
                chunk.put(staging.limit(from + (int) rowBytes).position(from));
            }
            requireFinite(chunk.flip(), offset);
            sink.accept(offset, chunk);
            offset += (long) n * rowBytes;
        }
    }

    /**
     * Refuses a chunk holding NaN or infinity (its {@code rangeOffset} is where it goes in the range): the cards'
     * ggml activation quantization would turn the NaN a weight spreads into zeros, and a damaged file would give
     * plausible logits instead of an error. The scan reads only block scales for the quantized formats.
     */
    private void requireFinite(ByteBuffer chunk, long rangeOffset) {
        QuantFormat format = QuantFormats.find(type).orElse(null);
        if (format == null) {
            return;
        }
        int count = chunk.remaining() / type.typeSize() * type.blockSize();
        int bad = format.firstNonFinite(chunk, chunk.position(), count);
        if (bad < 0) {
            return;
        }
        float[] block = new float[type.blockSize()];
        int blockStart = bad - bad % type.blockSize();
        format.dequantize(chunk, chunk.position() + blockStart / type.blockSize() * type.typeSize(), block, 0,
                block.length);
        long element = rangeOffset / type.typeSize() * type.blockSize() + bad;
        throw new InvalidModelException("tensor " + tensor.name() + " holds a non-finite value ("
                + block[bad - blockStart] + " at row " + (firstRow + element / cols) + ", column "
                + (firstColumn + element % cols) + "): the model file is damaged; download or convert it again");
    }

    /**
     * A 1-D tensor (a norm weight) as float32 bytes, refused if it holds NaN or infinity: the cards' ggml activation
     * quantization would turn the NaN it spreads into zeros, and plausible logits, instead of an error.
     */
    static ByteBuffer vector(GgufFile.TensorReader reader, GgufFile file, String name) {
        GgufTensorInfo t = LlamaConfig.tensor(file, name);
        ByteBuffer raw = ByteBuffer.allocate(Math.toIntExact(t.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        reader.read(t, 0, raw);
        raw.flip();
        int n = Math.toIntExact(t.elementCount());
        float[] v = new float[n];
        QuantFormats.of(t.type()).dequantize(raw, 0, v, 0, n);
        NonFiniteValues.inTensor(v, name);
        if (t.type() == GgmlType.F32) {
            return raw;
        }
        ByteBuffer b = ByteBuffer.allocate(n * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b;
    }
}
