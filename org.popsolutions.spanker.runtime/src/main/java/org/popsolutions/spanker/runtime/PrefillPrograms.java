package org.popsolutions.spanker.runtime;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.Slice;

/**
 * Prompt processing in one pass: each card's decode program rewritten for {@code batch} consecutive tokens. Every
 * activation buffer gets a twin holding {@code batch} copies side by side (vector i at i × the buffer's size); the
 * products become one {@link Op.MatMul} over all the vectors (the card streams each weight tile once for all of
 * them), the per-token ops (embedding row, norm, rope, attention, hand-offs) repeat once per token in token order,
 * each with its own token and position from the batch's step buffer (tokens, then positions). Attention for token i
 * writes its key and value at its position before attending, so token i sees exactly tokens 0..i, as token by token.
 * The weights and KV caches are the decode program's own. Each result equals the token-by-token one: a batched
 * product is, per vector, the same dot products (the kernels' tiles keep each vector's accumulation order). The
 * head's product runs for the pass's last token only: the earlier tokens' logits are never read.
 *
 * <p>Tensor-parallel joins (the collectives' scratch ranges) are not rewritten: a plan with them processes its
 * prompt token by token ({@link #of} is empty).
 */
final class PrefillPrograms {
    /** A prompt is taken at most this many tokens per pass (the twins' size: 32 × the activations). */
    static final int MAX_BATCH = 32;

    final int batch;
    final Program[] programs;
    final CardBuffer[] step;
    /** Activation buffer handle (per card) → its twin. */
    private final Map<Long, CardBuffer>[] twins;

    @SuppressWarnings("unchecked")
    private PrefillPrograms(int batch, int cards) {
        this.batch = batch;
        this.programs = new Program[cards];
        this.step = new CardBuffer[cards];
        this.twins = new Map[cards];
    }

    /** Allocates a buffer on a card (the executor's, so the buffers are counted and freed with the rest). */
    interface Allocator {
        CardBuffer allocate(int card, long bytes, String purpose);
    }

    /** Thrown while rewriting an op that has no batched form here. */
    private static final class NotBatched extends Exception {
        private static final long serialVersionUID = 1L;
    }

    /**
     * @param decode each card's decode ops (null or empty when the card has no work)
     * @param decodeStep each card's step buffer (token at 0, position at 4)
     * @param activations each card's activation buffers (what holds one token's values)
     * @param lastTokenOnly handles of the buffers whose products only the pass's last token needs (the logits: a
     *        prompt's earlier tokens feed the KV caches, not the sampler)
     * @param allocate allocates a buffer on a card
     */
    static Optional<PrefillPrograms> of(int batch, List<List<Op>> decode, CardBuffer[] decodeStep,
            List<List<CardBuffer>> activations, Set<Long> lastTokenOnly, Allocator allocate) {
        int n = decode.size();
        PrefillPrograms p = new PrefillPrograms(batch, n);
        List<List<Op>> rewritten = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            List<Op> ops = decode.get(c);
            if (ops == null || ops.isEmpty()) {
                rewritten.add(null);
                continue;
            }
            p.twins[c] = new HashMap<>();
            for (CardBuffer b : activations.get(c)) {
                p.twins[c].put(b.handle(), allocate.allocate(c, b.bytes() * batch, b.purpose() + " x " + batch));
            }
            p.step[c] = allocate.allocate(c, 8L * batch, batch + " tokens and positions");
            try {
                rewritten.add(p.rewrite(c, ops, decodeStep[c], lastTokenOnly));
            } catch (NotBatched e) {
                return Optional.empty();
            }
        }
        for (int c = 0; c < n; c++) {
            if (rewritten.get(c) != null) {
                p.programs[c] = new Program("prefill of " + batch + " tokens on card " + c, rewritten.get(c));
            }
        }
        return Optional.of(p);
    }

    /** The twin of an activation buffer on card {@code card}. */
    CardBuffer twin(int card, CardBuffer activation) {
        return twins[card].get(activation.handle());
    }

    private List<Op> rewrite(int c, List<Op> ops, CardBuffer decodeStep, Set<Long> lastTokenOnly) throws NotBatched {
        List<Op> out = new ArrayList<>();
        for (Op op : ops) {
            if (op instanceof Op.MatMul m && m.vectors() == 1 && lastTokenOnly.contains(m.out().buffer())) {
                out.add(new Op.MatMul(m.ggmlType(), m.weights(), m.rows(), m.columns(), 1, vector(c, m.x(), batch - 1),
                        vector(c, m.out(), batch - 1), m.mode()));
                continue;
            }
            if (op instanceof Op.MatMul m && m.vectors() == 1) {
                Slice x = all(c, m.x());
                Slice y = all(c, m.out());
                if (x != null && y != null) {
                    out.add(new Op.MatMul(m.ggmlType(), m.weights(), m.rows(), m.columns(), batch, x, y, m.mode()));
                } else {
                    for (int i = 0; i < batch; i++) {
                        out.add(new Op.MatMul(m.ggmlType(), m.weights(), m.rows(), m.columns(), 1, vector(c, m.x(), i),
                                vector(c, m.out(), i), m.mode()));
                    }
                }
                continue;
            }
            for (int i = 0; i < batch; i++) {
                out.add(perToken(c, op, i, decodeStep));
            }
        }
        return out;
    }

    /** Token {@code i}'s copy of a per-token op. */
    private Op perToken(int c, Op op, int i, CardBuffer decodeStep) throws NotBatched {
        if (op instanceof Op.EmbeddingRow e) {
            return new Op.EmbeddingRow(e.ggmlType(), e.table(), e.rowLength(), step(c, e.rowIndex(), i, decodeStep),
                    vector(c, e.out(), i));
        } else if (op instanceof Op.RmsNorm r) {
            return new Op.RmsNorm(vector(c, r.x(), i), r.weight(), vector(c, r.out(), i), r.epsilon());
        } else if (op instanceof Op.Rope r) {
            return new Op.Rope(vector(c, r.vectors(), i), r.heads(), r.headDimension(), r.ropeDimensions(), r.base(),
                    step(c, r.position(), i, decodeStep));
        } else if (op instanceof Op.Attention a) {
            return new Op.Attention(vector(c, a.query(), i), vector(c, a.key(), i), vector(c, a.value(), i),
                    a.keyCache(), a.valueCache(), step(c, a.position(), i, decodeStep), a.heads(), a.kvHeads(),
                    a.headDimension(), vector(c, a.out(), i));
        } else if (op instanceof Op.SwiGlu s) {
            return new Op.SwiGlu(vector(c, s.gate(), i), vector(c, s.up(), i), vector(c, s.out(), i));
        } else if (op instanceof Op.Add a) {
            return new Op.Add(vector(c, a.a(), i), vector(c, a.b(), i), vector(c, a.out(), i));
        } else if (op instanceof Op.Copy k) {
            return new Op.Copy(vector(c, k.from(), i), vector(c, k.to(), i));
        } else if (op instanceof Op.Send s && s.tags().isNone()) {
            return new Op.Send(s.port(), vector(c, s.values(), i), Slice.NONE);
        } else if (op instanceof Op.Receive r && r.tags().isNone()) {
            return new Op.Receive(r.port(), vector(c, r.values(), i), Slice.NONE, r.combine());
        } else if (op instanceof Op.Forward f) {
            return f;
        }
        // a collective's reduce, tags or division over its own scratch ranges
        throw new NotBatched();
    }

    /** Token i's range of an activation slice: the same offset in the twin's i-th copy. */
    private Slice vector(int c, Slice s, int i) throws NotBatched {
        CardBuffer twin = twins[c].get(s.buffer());
        if (twin == null) {
            throw new NotBatched();
        }
        long size = twin.bytes() / batch;
        return new Slice(twin.handle(), i * size + s.offset(), s.bytes());
    }

    /** All tokens' copies of a slice as one range, when the slice is its whole buffer (else null). */
    private Slice all(int c, Slice s) throws NotBatched {
        CardBuffer twin = twins[c].get(s.buffer());
        if (twin == null) {
            throw new NotBatched();
        }
        return s.offset() == 0 && s.bytes() * batch == twin.bytes() ? new Slice(twin.handle(), 0, twin.bytes()) : null;
    }

    /** Token i's token id (the decode step's offset 0) or position (offset 4) in the batch's step buffer. */
    private Slice step(int c, Slice s, int i, CardBuffer decodeStep) throws NotBatched {
        if (s.buffer() != decodeStep.handle() || s.bytes() != 4 || (s.offset() != 0 && s.offset() != 4)) {
            throw new NotBatched();
        }
        return new Slice(step[c].handle(), (s.offset() == 0 ? 0 : 4L * batch) + 4L * i, 4);
    }
}
