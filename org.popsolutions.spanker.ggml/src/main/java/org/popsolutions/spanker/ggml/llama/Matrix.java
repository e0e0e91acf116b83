package org.popsolutions.spanker.ggml.llama;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.HeapWeights;
import org.popsolutions.spanker.ggml.kernel.MatVec;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * Weight rows stored back to back in ggml layout (row r at byte r·rowBytes), the whole tensor or one card's share
 * of it. A row range is a view of the same bytes (it is contiguous); a column range is copied out, block-aligned;
 * {@link #onHeap} gives the card a heap copy of its own.
 */
final class Matrix {
    final String name;
    final GgmlType type;
    final int rows;
    final int cols;
    final ByteBuffer data;

    private Matrix(String name, GgmlType type, int rows, int cols, ByteBuffer data) {
        this.name = name;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.data = data;
    }

    static Matrix of(GgufFile file, String name) {
        GgufTensorInfo t = LlamaConfig.tensor(file, name);
        return new Matrix(name, t.type(), Math.toIntExact(t.rows()), Math.toIntExact(t.rowLength()), file.data(t));
    }

    long rowBytes() {
        return type.bytesFor(cols);
    }

    /** Bytes this matrix holds. */
    long bytes() {
        return data.capacity();
    }

    /** Rows [from, to): a view, no copy. The whole range returns this matrix itself. */
    Matrix rows(int from, int to) {
        if (from < 0 || to > rows || from > to) {
            throw new IllegalArgumentException(name + ": rows [" + from + ", " + to + ") outside 0.." + rows);
        }
        if (from == 0 && to == rows) {
            return this;
        }
        long rb = rowBytes();
        ByteBuffer view = data.duplicate().clear().position((int) (from * rb)).limit((int) (to * rb)).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        return new Matrix(name + "[rows " + from + ".." + to + ")", type, to - from, cols, view);
    }

    /**
     * This matrix's bytes in a heap array of the card's own (the vector kernels read heap weights in place; a mapped
     * buffer costs them a copy of every row on every product). A matrix already on the heap is returned as is.
     */
    Matrix onHeap(boolean wanted) {
        if (!wanted) {
            return this;
        }
        ByteBuffer heap = HeapWeights.copyOf(data);
        return heap == data ? this : new Matrix(name, type, rows, cols, heap);
    }

    /** Columns [from, to) of every row, copied into a buffer of their own; both ends must fall on block edges. */
    Matrix columns(int from, int to) {
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
        return new Matrix(name + "[cols " + from + ".." + to + ")", type, rows, to - from,
                ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN));
    }

    /** out[r] = Σ_c W[r][c]·x[c]. */
    void times(MatVec matVec, float[] x, float[] out, DotMode mode) {
        if (rows == 0) {
            return;
        }
        matVec.matvec(type, data, rows, cols, x, out, mode);
    }

    /** Row r dequantized (an embedding lookup, as ggml's get_rows). */
    void row(int r, float[] out) {
        if (r < 0 || r >= rows) {
            throw new IllegalArgumentException(name + ": row " + r + " outside 0.." + (rows - 1));
        }
        QuantFormats.of(type).dequantize(data, (int) (r * rowBytes()), out, 0, cols);
    }

    /** A 1-D tensor (a norm weight) as floats. */
    static float[] vector(GgufFile file, String name) {
        Matrix m = of(file, name);
        float[] v = new float[m.cols * m.rows];
        QuantFormats.of(m.type).dequantize(m.data, 0, v, 0, v.length);
        NonFiniteValues.inTensor(v, name);
        return v;
    }
}
