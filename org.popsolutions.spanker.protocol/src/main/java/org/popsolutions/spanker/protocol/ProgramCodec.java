package org.popsolutions.spanker.protocol;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.card.Combine;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.OpCode;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.Slice;

/**
 * A SUBMIT payload: a {@link Program} field by field (docs/protocol.md, "SUBMIT"). A slice is three u64 (handle,
 * offset, bytes), each at most {@link #MAX_SLICE_FIELD}; counts and dimensions are u32 with the bounds below. The
 * decoder checks every field and the record invariants of the SPI; it never trusts a count to size an allocation
 * before the bytes for it are known to be in the payload.
 */
public final class ProgramCodec {
    /** Ops in one program. */
    public static final int MAX_OPS = 65_536;
    /** Handles, offsets and lengths of a slice: at most 1 TiB. */
    public static final long MAX_SLICE_FIELD = 1L << 40;
    /** Rows, columns, heads, dimensions, ports: at most 2^24. */
    public static final int MAX_DIMENSION = 1 << 24;
    /** The smallest encoded op (a FORWARD: code, two ports, a length). */
    private static final int MIN_OP_BYTES = 1 + 4 + 4 + 8;

    private ProgramCodec() {
    }

    public static byte[] encode(Program program) {
        WireWriter w = new WireWriter();
        w.string(program.label());
        w.u32(program.ops().size());
        for (Op op : program.ops()) {
            w.u8(op.code().code());
            if (op instanceof Op.EmbeddingRow o) {
                w.u32(o.ggmlType());
                slice(w, o.table());
                w.u32(o.rowLength());
                slice(w, o.rowIndex());
                slice(w, o.out());
            } else if (op instanceof Op.MatMul o) {
                w.u32(o.ggmlType());
                slice(w, o.weights());
                w.u32(o.rows()).u32(o.columns()).u32(o.vectors());
                slice(w, o.x());
                slice(w, o.out());
                w.u8(o.mode().ordinal());
            } else if (op instanceof Op.RmsNorm o) {
                slice(w, o.x());
                slice(w, o.weight());
                slice(w, o.out());
                w.f32(o.epsilon());
            } else if (op instanceof Op.Rope o) {
                slice(w, o.vectors());
                w.u32(o.heads()).u32(o.headDimension()).u32(o.ropeDimensions()).f32(o.base());
                slice(w, o.position());
            } else if (op instanceof Op.Attention o) {
                slice(w, o.query());
                slice(w, o.key());
                slice(w, o.value());
                slice(w, o.keyCache());
                slice(w, o.valueCache());
                slice(w, o.position());
                w.u32(o.heads()).u32(o.kvHeads()).u32(o.headDimension());
                slice(w, o.out());
            } else if (op instanceof Op.SwiGlu o) {
                slice(w, o.gate());
                slice(w, o.up());
                slice(w, o.out());
            } else if (op instanceof Op.Add o) {
                slice(w, o.a());
                slice(w, o.b());
                slice(w, o.out());
            } else if (op instanceof Op.Copy o) {
                slice(w, o.from());
                slice(w, o.to());
            } else if (op instanceof Op.Send o) {
                w.u32(o.port());
                slice(w, o.values());
                slice(w, o.tags());
            } else if (op instanceof Op.Receive o) {
                w.u32(o.port());
                slice(w, o.values());
                slice(w, o.tags());
                w.u8(o.combine().ordinal());
            } else if (op instanceof Op.Forward o) {
                w.u32(o.fromPort()).u32(o.toPort()).u64(o.bytes());
            } else if (op instanceof Op.Reduce o) {
                w.u8(o.combine().ordinal());
                slice(w, o.into());
                slice(w, o.intoTags());
                slice(w, o.from());
                slice(w, o.fromTags());
            } else if (op instanceof Op.TagOrigins o) {
                w.u8(o.combine().ordinal());
                slice(w, o.values());
                slice(w, o.tags());
                w.u32(o.card());
            } else if (op instanceof Op.Divide o) {
                slice(w, o.values());
                w.f32(o.divisor());
            }
        }
        return w.toBytes();
    }

    public static Program decode(byte[] payload) throws MalformedFrameException {
        WireReader r = new WireReader(payload);
        String label = r.string("program label");
        int count = r.u32In("op count", 0, MAX_OPS);
        if ((long) count * MIN_OP_BYTES > r.remaining()) {
            throw new MalformedFrameException("op count " + count + " cannot fit in the " + r.remaining()
                    + " bytes left");
        }
        List<Op> ops = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ops.add(op(r, i));
        }
        r.end("SUBMIT");
        return new Program(label, ops);
    }

    private static Op op(WireReader r, int index) throws MalformedFrameException {
        int code = r.u8("op " + index + " code");
        OpCode opCode;
        try {
            opCode = OpCode.fromCode(code);
        } catch (IllegalArgumentException e) {
            throw new MalformedFrameException("op " + index + ": unknown op code " + code);
        }
        String at = "op " + index + " (" + opCode + ") ";
        try {
            return switch (opCode) {
                case EMBEDDING_ROW -> new Op.EmbeddingRow(dim(r, at + "type"), slice(r, at + "table"),
                        dim(r, at + "row length"), slice(r, at + "row index"), slice(r, at + "out"));
                case MAT_MUL -> new Op.MatMul(dim(r, at + "type"), slice(r, at + "weights"), dim(r, at + "rows"),
                        dim(r, at + "columns"), dim(r, at + "vectors"), slice(r, at + "x"), slice(r, at + "out"),
                        enumOf(ActivationMode.values(), r.u8(at + "mode"), at + "mode"));
                case RMS_NORM -> new Op.RmsNorm(slice(r, at + "x"), slice(r, at + "weight"), slice(r, at + "out"),
                        r.f32(at + "epsilon"));
                case ROPE -> new Op.Rope(slice(r, at + "vectors"), dim(r, at + "heads"), dim(r, at + "head dimension"),
                        dim(r, at + "rope dimensions"), r.f32(at + "base"), slice(r, at + "position"));
                case ATTENTION -> new Op.Attention(slice(r, at + "query"), slice(r, at + "key"), slice(r, at + "value"),
                        slice(r, at + "key cache"), slice(r, at + "value cache"), slice(r, at + "position"),
                        dim(r, at + "heads"), dim(r, at + "kv heads"), dim(r, at + "head dimension"),
                        slice(r, at + "out"));
                case SWIGLU -> new Op.SwiGlu(slice(r, at + "gate"), slice(r, at + "up"), slice(r, at + "out"));
                case ADD -> new Op.Add(slice(r, at + "a"), slice(r, at + "b"), slice(r, at + "out"));
                case COPY -> new Op.Copy(slice(r, at + "from"), slice(r, at + "to"));
                case SEND -> new Op.Send(dim(r, at + "port"), slice(r, at + "values"), slice(r, at + "tags"));
                case RECEIVE -> new Op.Receive(dim(r, at + "port"), slice(r, at + "values"), slice(r, at + "tags"),
                        enumOf(Combine.values(), r.u8(at + "combine"), at + "combine"));
                case FORWARD -> new Op.Forward(dim(r, at + "from port"), dim(r, at + "to port"),
                        r.u64(at + "bytes", MAX_SLICE_FIELD));
                case REDUCE -> new Op.Reduce(enumOf(Combine.values(), r.u8(at + "combine"), at + "combine"),
                        slice(r, at + "into"), slice(r, at + "into tags"), slice(r, at + "from"),
                        slice(r, at + "from tags"));
                case TAG_ORIGINS -> new Op.TagOrigins(enumOf(Combine.values(), r.u8(at + "combine"), at + "combine"),
                        slice(r, at + "values"), slice(r, at + "tags"), dim(r, at + "card"));
                case DIVIDE -> new Op.Divide(slice(r, at + "values"), r.f32(at + "divisor"));
            };
        } catch (IllegalArgumentException e) {
            // The SPI records check their own invariants (a tag card above 254, heads not a multiple of kv heads...).
            throw new MalformedFrameException(at + e.getMessage());
        }
    }

    private static void slice(WireWriter w, Slice s) {
        w.u64(s.buffer()).u64(s.offset()).u64(s.bytes());
    }

    private static Slice slice(WireReader r, String field) throws MalformedFrameException {
        return new Slice(r.u64(field + " handle", MAX_SLICE_FIELD), r.u64(field + " offset", MAX_SLICE_FIELD),
                r.u64(field + " bytes", MAX_SLICE_FIELD));
    }

    private static int dim(WireReader r, String field) throws MalformedFrameException {
        return r.u32In(field, 0, MAX_DIMENSION);
    }

    private static <E extends Enum<E>> E enumOf(E[] values, int code, String field) throws MalformedFrameException {
        if (code >= values.length) {
            throw new MalformedFrameException(field + ": no value has code " + code + " (0.." + (values.length - 1)
                    + ")");
        }
        return values[code];
    }
}
