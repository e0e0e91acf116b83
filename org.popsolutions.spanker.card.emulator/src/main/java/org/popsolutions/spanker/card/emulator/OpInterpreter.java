package org.popsolutions.spanker.card.emulator;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.function.BooleanSupplier;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.card.Combine;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.MatVec;
import org.popsolutions.spanker.ggml.kernel.RowExecutor;
import org.popsolutions.spanker.ggml.ops.CardOps;
import org.popsolutions.spanker.ggml.ops.OpDispatch;
import org.popsolutions.spanker.ggml.ops.OpHandler;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormat;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * Runs one op of the SPI on the card's DDR with the host's ggml kernels, as the SPI's javadoc defines each op: the
 * arithmetic is {@link CardOps}', which the mock cards compute with too; this class moves the operands in and out of
 * the card's DDR and its links. The card's pace (weights at the DDR rate, reduces, link arrivals) is kept by
 * {@link CardClock}, not here.
 */
final class OpInterpreter implements AutoCloseable {
    /** An op that cannot run: the program ends with OP_FAILED and this message. */
    static final class OpFailed extends Exception {
        private static final long serialVersionUID = 1L;

        OpFailed(String message) {
            super(message);
        }
    }

    private final Ddr ddr;
    private final LinkPorts links;
    private final RowExecutor rows;
    private final MatVec matVec;

    OpInterpreter(Ddr ddr, LinkPorts links, EmulatorOptions options) {
        this.ddr = ddr;
        this.links = links;
        this.rows = new RowExecutor(options.threads());
        this.matVec = new MatVec(Kernels.best(), rows);
    }

    @Override
    public void close() {
        rows.close();
    }

    /**
     * Runs one op. {@code abandoned} says whether the program was given up (its host is gone): a receive or forward
     * waiting for a message then fails at once instead of waiting out the receive timeout.
     */
    void run(Op op, BooleanSupplier abandoned) throws OpFailed, InterruptedException {
        try {
            OpDispatch.dispatch(op, new Handler(abandoned));
        } catch (OpFailed | InterruptedException | RuntimeException e) {
            if (e instanceof IllegalArgumentException || e instanceof ArithmeticException) {
                throw new OpFailed(e.getMessage());
            }
            throw e;
        } catch (Ddr.Refusal | LinkPorts.LinkDown e) {
            throw new OpFailed(e.getMessage());
        } catch (Exception e) {
            throw new IllegalStateException("unexpected from op " + op.code() + ": " + e, e);
        }
    }

    /** Each op kind run on the card's DDR and links ({@code abandoned}: whether the program was given up). */
    private final class Handler implements OpHandler<Void, Exception> {
        private final BooleanSupplier abandoned;

        Handler(BooleanSupplier abandoned) {
            this.abandoned = abandoned;
        }

        @Override
        public Void embeddingRow(Op.EmbeddingRow o) throws Exception {
            OpInterpreter.this.embeddingRow(o);
            return null;
        }

        @Override
        public Void matMul(Op.MatMul o) throws Exception {
            OpInterpreter.this.matMul(o);
            return null;
        }

        @Override
        public Void rmsNorm(Op.RmsNorm o) throws Exception {
            OpInterpreter.this.rmsNorm(o);
            return null;
        }

        @Override
        public Void rope(Op.Rope o) throws Exception {
            OpInterpreter.this.rope(o);
            return null;
        }

        @Override
        public Void attention(Op.Attention o) throws Exception {
            OpInterpreter.this.attention(o);
            return null;
        }

        @Override
        public Void swiGlu(Op.SwiGlu o) throws Exception {
            float[] g = floats(o.gate());
            float[] u = floats(o.up(), g.length, "up");
            requireLength(o.out(), g.length, "out");
            CardOps.swiGlu(g, 0, u, 0, g, 0, g.length);
            store(o.out(), g);
            return null;
        }

        @Override
        public Void add(Op.Add o) throws Exception {
            float[] a = floats(o.a());
            float[] b = floats(o.b(), a.length, "b");
            requireLength(o.out(), a.length, "out");
            CardOps.add(a, 0, b, 0, a, 0, a.length);
            store(o.out(), a);
            return null;
        }

        @Override
        public Void copy(Op.Copy o) throws Exception {
            if (o.from().bytes() != o.to().bytes()) {
                throw new OpFailed("copy from " + o.from().bytes() + " bytes to " + o.to().bytes() + " bytes");
            }
            byte[] bytes = bytes(o.from());
            range(o.to()).put(0, bytes);
            return null;
        }

        @Override
        public Void send(Op.Send o) throws Exception {
            byte[] values = bytes(o.values());
            byte[] tags = o.tags().isNone() ? new byte[0] : bytes(o.tags());
            byte[] message = new byte[values.length + tags.length];
            System.arraycopy(values, 0, message, 0, values.length);
            System.arraycopy(tags, 0, message, values.length, tags.length);
            links.port(o.port()).send(message);
            return null;
        }

        @Override
        public Void receive(Op.Receive o) throws Exception {
            OpInterpreter.this.receive(o, abandoned);
            return null;
        }

        @Override
        public Void forward(Op.Forward o) throws Exception {
            byte[] m = links.port(o.fromPort()).take(abandoned);
            if (m.length != o.bytes()) {
                throw new OpFailed("forward expected " + o.bytes() + " bytes, " + m.length + " arrived");
            }
            links.port(o.toPort()).send(m);
            return null;
        }

        @Override
        public Void reduce(Op.Reduce o) throws Exception {
            OpInterpreter.this.reduce(o);
            return null;
        }

        @Override
        public Void tagOrigins(Op.TagOrigins o) throws Exception {
            OpInterpreter.this.tagOrigins(o);
            return null;
        }

        @Override
        public Void divide(Op.Divide o) throws Exception {
            float[] v = floats(o.values());
            CardOps.divide(v, 0, v.length, o.divisor());
            store(o.values(), v);
            return null;
        }
    }

    private void embeddingRow(Op.EmbeddingRow o) throws OpFailed, Ddr.Refusal {
        GgmlType type = type(o.ggmlType());
        QuantFormat format = QuantFormats.find(type).orElseThrow(() -> new IllegalArgumentException("no format for "
                + type));
        long rowBytes = rowBytes(type, o.rowLength());
        int row = int32(o.rowIndex(), "row index");
        if (row < 0 || (row + 1L) * rowBytes > o.table().bytes()) {
            throw new OpFailed("row " + row + " lies outside the table of " + o.table().bytes() / Math.max(1, rowBytes)
                    + " rows");
        }
        requireLength(o.out(), o.rowLength(), "out");
        ByteBuffer table = range(o.table());
        float[] out = new float[o.rowLength()];
        format.dequantize(table, (int) (row * rowBytes), out, 0, out.length);
        store(o.out(), out);
    }

    private void matMul(Op.MatMul o) throws OpFailed, Ddr.Refusal {
        GgmlType type = type(o.ggmlType());
        long rowBytes = rowBytes(type, o.columns());
        if (o.weights().bytes() != rowBytes * o.rows()) {
            throw new OpFailed(o.rows() + " rows of " + o.columns() + " " + type + " are " + rowBytes * o.rows()
                    + " bytes, the weights slice has " + o.weights().bytes());
        }
        requireLength(o.x(), (long) o.vectors() * o.columns(), "x");
        requireLength(o.out(), (long) o.vectors() * o.rows(), "out");
        ByteBuffer weights = range(o.weights());
        float[] all = floats(o.x());
        float[][] x = new float[o.vectors()][o.columns()];
        float[][] out = new float[o.vectors()][o.rows()];
        for (int v = 0; v < o.vectors(); v++) {
            System.arraycopy(all, v * o.columns(), x[v], 0, o.columns());
        }
        DotMode mode = o.mode() == ActivationMode.GGML ? DotMode.GGML : DotMode.FLOAT;
        if (o.vectors() == 1) {
            matVec.matvec(type, weights, o.rows(), o.columns(), x[0], out[0], mode);
        } else {
            matVec.matmul(type, weights, o.rows(), o.columns(), x, out, mode);
        }
        float[] flat = new float[o.vectors() * o.rows()];
        for (int v = 0; v < o.vectors(); v++) {
            System.arraycopy(out[v], 0, flat, v * o.rows(), o.rows());
        }
        store(o.out(), flat);
    }

    private void rmsNorm(Op.RmsNorm o) throws OpFailed, Ddr.Refusal {
        float[] x = floats(o.x());
        float[] w = floats(o.weight(), x.length, "weight");
        requireLength(o.out(), x.length, "out");
        CardOps.rmsNorm(x, 0, w, 0, x, 0, x.length, o.epsilon());
        store(o.out(), x);
    }

    private void rope(Op.Rope o) throws OpFailed, Ddr.Refusal {
        int position = int32(o.position(), "position");
        requireLength(o.vectors(), (long) o.heads() * o.headDimension(), "vectors");
        if (o.ropeDimensions() > o.headDimension() || o.ropeDimensions() % 2 != 0) {
            throw new OpFailed("rope dimensions " + o.ropeDimensions() + " must be even and <= the head dimension "
                    + o.headDimension());
        }
        float[] v = floats(o.vectors());
        int pairs = o.ropeDimensions() / 2;
        float[] cos = new float[pairs];
        float[] sin = new float[pairs];
        CardOps.ropeAngles(position, o.base(), o.headDimension(), cos, sin);
        CardOps.rope(v, 0, o.heads(), o.headDimension(), cos, sin);
        store(o.vectors(), v);
    }

    private void attention(Op.Attention o) throws OpFailed, Ddr.Refusal {
        int heads = o.heads();
        int kvHeads = o.kvHeads();
        int d = o.headDimension();
        if (kvHeads == 0 || heads == 0) {
            throw new OpFailed("attention needs at least one head and one kv head");
        }
        int kvWidth = kvHeads * d;
        int position = int32(o.position(), "position");
        if (position < 0 || (position + 1L) * kvWidth * Float.BYTES > o.keyCache().bytes()
                || (position + 1L) * kvWidth * Float.BYTES > o.valueCache().bytes()) {
            throw new OpFailed("position " + position + " lies outside the kv caches");
        }
        float[] q = floats(o.query(), (long) heads * d, "query");
        float[] k = floats(o.key(), kvWidth, "key");
        float[] val = floats(o.value(), kvWidth, "value");
        requireLength(o.out(), (long) heads * d, "out");
        ByteBuffer keys = range(o.keyCache());
        ByteBuffer values = range(o.valueCache());
        for (int i = 0; i < kvWidth; i++) {
            keys.putFloat((position * kvWidth + i) * Float.BYTES, k[i]);
            values.putFloat((position * kvWidth + i) * Float.BYTES, val[i]);
        }
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] out = new float[heads * d];
        float[] scores = new float[position + 1];
        FloatBuffer keyRows = keys.asFloatBuffer();
        FloatBuffer valueRows = values.asFloatBuffer();
        for (int h = 0; h < heads; h++) {
            CardOps.attentionHead(q, h * d, keyRows, valueRows, kvWidth, (h / group) * d, d, position, scale, scores,
                    0, out, h * d);
        }
        store(o.out(), out);
    }

    private void receive(Op.Receive o, BooleanSupplier abandoned)
            throws OpFailed, Ddr.Refusal, LinkPorts.LinkDown, InterruptedException {
        byte[] m = links.port(o.port()).take(abandoned);
        long expected = o.values().bytes() + o.tags().bytes();
        if (m.length != expected) {
            throw new OpFailed("a message of " + m.length + " bytes arrived on port " + o.port() + ", the ranges hold "
                    + expected);
        }
        ByteBuffer in = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) (o.values().bytes() / Float.BYTES);
        float[] incoming = new float[n];
        in.asFloatBuffer().get(incoming);
        byte[] inTags = o.tags().isNone() ? null : java.util.Arrays.copyOfRange(m, (int) o.values().bytes(), m.length);
        combine(o.combine(), o.values(), o.tags(), incoming, inTags);
    }

    private void reduce(Op.Reduce o) throws OpFailed, Ddr.Refusal {
        if (o.into().bytes() != o.from().bytes() || o.intoTags().isNone() != o.fromTags().isNone()
                || o.intoTags().bytes() != o.fromTags().bytes()) {
            throw new OpFailed("reduce needs ranges of one length and tags on both sides or neither");
        }
        byte[] fromTags = o.fromTags().isNone() ? null : bytes(o.fromTags());
        combine(o.combine(), o.into(), o.intoTags(), floats(o.from()), fromTags);
    }

    /** acc ⊕ in element by element, as {@link Combine} defines it. */
    private void combine(Combine c, Slice acc, Slice accTags, float[] in, byte[] inTags) throws OpFailed, Ddr.Refusal {
        float[] a = floats(acc, in.length, "accumulator");
        byte[] tags = null;
        if (inTags != null) {
            if (accTags.isNone() || accTags.bytes() != in.length || inTags.length != in.length) {
                throw new OpFailed("tags must hold one byte per value (" + in.length + ")");
            }
            tags = bytes(accTags);
        }
        CardOps.combine(c, a, 0, tags, 0, in, 0, inTags, 0, a.length);
        store(acc, a);
        if (tags != null && c != Combine.SUM) {
            range(accTags).put(0, tags);
        }
    }

    private void tagOrigins(Op.TagOrigins o) throws OpFailed, Ddr.Refusal {
        float[] v = floats(o.values());
        if (o.tags().bytes() != v.length) {
            throw new OpFailed("tags must hold one byte per value (" + v.length + ")");
        }
        byte[] tags = new byte[v.length];
        CardOps.tagOrigins(o.combine(), v, 0, tags, 0, v.length, o.card());
        store(o.values(), v);
        range(o.tags()).put(0, tags);
    }

    private static GgmlType type(int id) throws OpFailed {
        GgmlType type = GgmlType.byId(id).orElseThrow(() -> new OpFailed("unknown ggml type " + id));
        if (!Kernels.supports(type) || QuantFormats.find(type).isEmpty()) {
            throw new OpFailed("this card has no kernel for " + type);
        }
        return type;
    }

    private static long rowBytes(GgmlType type, int values) throws OpFailed {
        long bytes = type.bytesFor(values);
        if (bytes < 0) {
            throw new OpFailed(type + " rows need a multiple of " + type.blockSize() + " values, got " + values);
        }
        return bytes;
    }

    private ByteBuffer range(Slice s) throws Ddr.Refusal, OpFailed {
        if (s.isNone()) {
            throw new OpFailed("an operand is missing (handle 0)");
        }
        return ddr.range(s.buffer(), s.offset(), s.bytes());
    }

    private byte[] bytes(Slice s) throws Ddr.Refusal, OpFailed {
        ByteBuffer b = range(s);
        byte[] out = new byte[b.capacity()];
        b.get(0, out);
        return out;
    }

    private float[] floats(Slice s) throws Ddr.Refusal, OpFailed {
        if (s.bytes() % Float.BYTES != 0) {
            throw new OpFailed("a float32 operand of " + s.bytes() + " bytes");
        }
        float[] out = new float[(int) (s.bytes() / Float.BYTES)];
        range(s).asFloatBuffer().get(out);
        return out;
    }

    private float[] floats(Slice s, long count, String name) throws Ddr.Refusal, OpFailed {
        requireLength(s, count, name);
        return floats(s);
    }

    private static void requireLength(Slice s, long floats, String name) throws OpFailed {
        if (s.bytes() != floats * Float.BYTES) {
            throw new OpFailed(name + " holds " + s.bytes() + " bytes, the op needs " + floats + " float32 values ("
                    + floats * Float.BYTES + " bytes)");
        }
    }

    private int int32(Slice s, String name) throws Ddr.Refusal, OpFailed {
        if (s.bytes() < Integer.BYTES) {
            throw new OpFailed(name + " needs 4 bytes, its slice has " + s.bytes());
        }
        return range(s).getInt(0);
    }

    private void store(Slice s, float[] values) throws Ddr.Refusal, OpFailed {
        range(s).asFloatBuffer().put(values);
    }
}
