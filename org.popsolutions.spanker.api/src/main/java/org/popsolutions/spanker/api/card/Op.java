package org.popsolutions.spanker.api.card;

import java.util.Objects;

/**
 * One step of a {@link Program}. Operands are {@link Slice}s of buffers resident on the card running the program;
 * float32 values are little-endian; a slice must lie inside its buffer and hold exactly the values the op
 * names, or the op fails with a {@link CardOpException}. Unless an op says otherwise, its output may not overlap
 * its inputs.
 *
 * <p>Positions and token ids that change every step are read from card memory (an int32 at the start of a
 * slice), so a program built once runs every token: the host only writes the new step's numbers over the host
 * link.
 */
public sealed interface Op {
    OpCode code();

    /**
     * {@code out = dequantize(table[row])}, the row index read as an int32 from {@code rowIndex} (ggml's
     * get_rows): an embedding lookup.
     *
     * @param ggmlType the table's GGUF tensor type id (SPEC §7)
     * @param table rows of {@code rowLength} values back to back, ggml block layout
     * @param rowLength values per row
     * @param rowIndex 4 bytes: the row, 0-based
     * @param out {@code rowLength} float32 values
     */
    record EmbeddingRow(int ggmlType, Slice table, int rowLength, Slice rowIndex, Slice out) implements Op {
        public EmbeddingRow {
            requireAll(table, rowIndex, out);
        }

        @Override
        public OpCode code() {
            return OpCode.EMBEDDING_ROW;
        }
    }

    /**
     * {@code out[v][r] = Σ_c W[r][c]·x[v][c]} for {@code vectors} activation vectors: a matrix-vector product
     * (decode, {@code vectors = 1}) or matrix-matrix (prompt processing).
     *
     * @param ggmlType the weights' GGUF tensor type id (SPEC §7)
     * @param weights {@code rows} rows of {@code columns} values back to back, ggml block layout
     * @param x {@code vectors × columns} float32 values
     * @param out {@code vectors × rows} float32 values
     * @param mode how the activations are treated
     */
    record MatMul(int ggmlType, Slice weights, int rows, int columns, int vectors, Slice x, Slice out,
            ActivationMode mode) implements Op {
        public MatMul {
            requireAll(weights, x, out);
            Objects.requireNonNull(mode, "mode");
            if (rows < 0 || columns < 0 || vectors < 1) {
                throw new IllegalArgumentException("a product has rows, columns >= 0 and at least one vector");
            }
        }

        @Override
        public OpCode code() {
            return OpCode.MAT_MUL;
        }
    }

    /**
     * {@code out = x / sqrt(mean(x²) + epsilon) · weight} as ggml: squares summed in double, the scale in float,
     * {@code x·scale} then {@code ·weight} as two float roundings. {@code out} may be {@code x}.
     *
     * @param x, weight, out float32 vectors of the same length
     */
    record RmsNorm(Slice x, Slice weight, Slice out, float epsilon) implements Op {
        public RmsNorm {
            requireAll(x, weight, out);
        }

        @Override
        public OpCode code() {
            return OpCode.RMS_NORM;
        }
    }

    /**
     * Llama RoPE in place: rotates the adjacent pairs (2i, 2i+1), i < ropeDimensions/2, of each of {@code heads}
     * heads of {@code headDimension} values by θ_i = position·base^(−2i/headDimension) (cos and sin in double,
     * rounded to float), the position read as an int32 from {@code position}.
     */
    record Rope(Slice vectors, int heads, int headDimension, int ropeDimensions, float base, Slice position)
            implements Op {
        public Rope {
            requireAll(vectors, position);
        }

        @Override
        public OpCode code() {
            return OpCode.ROPE;
        }
    }

    /**
     * Causal attention over a KV cache held in card buffers, for one new position (read as an int32 from
     * {@code position}): first {@code key} and {@code value} ({@code kvHeads × headDimension} values each) are
     * stored as row {@code position} of {@code keyCache} and {@code valueCache} (rows of
     * {@code kvHeads × headDimension} float32), then for each query head h, with key/value head
     * {@code h / (heads / kvHeads)}: {@code s_t = (q_h · k_t) / sqrt(headDimension)} for t = 0..position (the dot
     * in float), {@code w = softmax(s)} (max subtracted, the sum in double), {@code out_h = Σ_t w_t · v_t}.
     *
     * @param query {@code heads × headDimension} float32 values (already rotated)
     * @param out {@code heads × headDimension} float32 values
     */
    record Attention(Slice query, Slice key, Slice value, Slice keyCache, Slice valueCache, Slice position, int heads,
            int kvHeads, int headDimension, Slice out) implements Op {
        public Attention {
            requireAll(query, key, value, keyCache, valueCache, position, out);
            if (heads < 0 || kvHeads < 0 || headDimension < 1 || (kvHeads > 0 && heads % kvHeads != 0)) {
                throw new IllegalArgumentException("attention needs kv heads dividing the heads and a head dimension"
                        + " >= 1, got heads " + heads + " kv heads " + kvHeads + " head dimension " + headDimension);
            }
        }

        @Override
        public OpCode code() {
            return OpCode.ATTENTION;
        }
    }

    /** {@code out[i] = silu(gate[i])·up[i]}, silu(g) = g / (1 + e^−g) in float; {@code out} may be {@code gate}. */
    record SwiGlu(Slice gate, Slice up, Slice out) implements Op {
        public SwiGlu {
            requireAll(gate, up, out);
        }

        @Override
        public OpCode code() {
            return OpCode.SWIGLU;
        }
    }

    /** {@code out[i] = a[i] + b[i]} in float32; {@code out} may be {@code a} or {@code b}. */
    record Add(Slice a, Slice b, Slice out) implements Op {
        public Add {
            requireAll(a, b, out);
        }

        @Override
        public OpCode code() {
            return OpCode.ADD;
        }
    }

    /** Copies the bytes of {@code from} to {@code to} (same length; the ranges may overlap). */
    record Copy(Slice from, Slice to) implements Op {
        public Copy {
            requireAll(from, to);
        }

        @Override
        public OpCode code() {
            return OpCode.COPY;
        }
    }

    /**
     * Sends one message out of {@code port}: the bytes of {@code values}, followed by those of {@code tags} when
     * given (origin tags of a tagged MAX/MIN, one byte per value). The op ends when the link has taken the message
     * (the link buffers it; the sender does not wait for the receiver's program); it fails unless the port is UP.
     */
    record Send(int port, Slice values, Slice tags) implements Op {
        public Send {
            requireAll(values, tags);
        }

        @Override
        public OpCode code() {
            return OpCode.SEND;
        }
    }

    /**
     * Takes the next message that arrived on {@code port} (waiting for it) and puts it into {@code values} (and
     * {@code tags}) as {@code combine} says. The message must be exactly as long as the ranges. Fails when the port
     * is not UP while waiting, or when nothing arrives within the card's receive timeout: never a hang.
     */
    record Receive(int port, Slice values, Slice tags, Combine combine) implements Op {
        public Receive {
            requireAll(values, tags);
            Objects.requireNonNull(combine, "combine");
        }

        @Override
        public OpCode code() {
            return OpCode.RECEIVE;
        }
    }

    /**
     * Passes the next message arriving on {@code fromPort}, of {@code bytes} bytes, on out of {@code toPort}
     * without touching card buffers: how a message reaches a card that is not a neighbour in a ring.
     */
    record Forward(int fromPort, int toPort, long bytes) implements Op {
        public Forward {
            if (fromPort < 0 || toPort < 0 || bytes < 0) {
                throw new IllegalArgumentException("forward needs ports and a length >= 0");
            }
        }

        @Override
        public OpCode code() {
            return OpCode.FORWARD;
        }
    }

    /**
     * {@code into = into ⊕ from} on the card, as {@link Combine} says ({@code into} is the left operand; tags
     * optional, both or neither). For folding several arrivals in card order when the card's own data is not first.
     */
    record Reduce(Combine combine, Slice into, Slice intoTags, Slice from, Slice fromTags) implements Op {
        public Reduce {
            Objects.requireNonNull(combine, "combine");
            requireAll(into, intoTags, from, fromTags);
        }

        @Override
        public OpCode code() {
            return OpCode.REDUCE;
        }
    }

    /**
     * Prepares a tagged MAX or MIN on card {@code card}: every tag becomes {@code card}, and unless {@code card} is
     * 0 every NaN value becomes the op's neutral value (−∞ for MAX, +∞ for MIN) with tag 255 — the original's
     * strict fold keeps a NaN only when card 0 holds it.
     */
    record TagOrigins(Combine combine, Slice values, Slice tags, int card) implements Op {
        public TagOrigins {
            Objects.requireNonNull(combine, "combine");
            requireAll(values, tags);
            if (combine != Combine.MAX && combine != Combine.MIN) {
                throw new IllegalArgumentException("origin tags serve MAX and MIN, not " + combine);
            }
            if (card < 0 || card > 254) {
                throw new IllegalArgumentException("an origin tag is a card 0..254, got " + card);
            }
        }

        @Override
        public OpCode code() {
            return OpCode.TAG_ORIGINS;
        }
    }

    /** {@code values[i] = values[i] / divisor} in float32 (an average's last step). */
    record Divide(Slice values, float divisor) implements Op {
        public Divide {
            requireAll(values);
        }

        @Override
        public OpCode code() {
            return OpCode.DIVIDE;
        }
    }

    private static void requireAll(Slice... slices) {
        for (Slice s : slices) {
            Objects.requireNonNull(s, "slice (use Slice.NONE for an absent operand)");
        }
    }
}
