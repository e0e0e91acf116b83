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
import org.popsolutions.spanker.api.plan.PromptPass;

/**
 * Prompt processing in one pass: each card's decode program rewritten for {@code batch} consecutive tokens. Every
 * activation buffer gets a twin holding {@code batch} copies side by side (vector i at i × the buffer's size); the
 * products become one {@link Op.MatMul} over all the vectors (the card streams each weight tile once for all of
 * them), the per-token ops (embedding row, norm, rope, attention, hand-offs) repeat once per token in token order,
 * each with its own token and position from the batch's step buffer (tokens, then positions); the element-wise ones
 * (SwiGLU, the residual add) run once over all the pass's tokens. Attention for token i
 * writes its key and value at its position before attending, so token i sees exactly tokens 0..i, as token by token.
 * The weights and KV caches are the decode program's own. Each result equals the token-by-token one: a batched
 * product is, per vector, the same dot products (the kernels' tiles keep each vector's accumulation order). The
 * head's product runs for the pass's last token only: the earlier tokens' logits are never read.
 *
 * <p>A tensor-parallel join (an allreduce of the block's partial sums, spliced into the decode programs) runs once per
 * pass: one allreduce over the twins of the partial sums, all the pass's tokens side by side, in the place of the
 * decode program's. The collectives add every element in card order whatever the message sizes, so each token's sums
 * are the token-by-token ones bit for bit; and one collective per pass, not one per token, means a pass never queues
 * a token's rounds behind another's on a link.
 */
final class PrefillPrograms {
    /** A prompt is taken at most this many tokens per pass (the twins' size: that many × the activations). */
    static final int MAX_BATCH = PromptPass.MAX_TOKENS;

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

    /**
     * A tensor-parallel join in the decode programs: on card {@code taking.get(i)} the ops
     * {@code [starts[i], starts[i] + counts[i])} are the allreduce of {@code data.get(i)}; {@code batched} makes the
     * same allreduce over other ranges (one slice per card of {@code taking}), its ops per card.
     */
    record Join(List<Integer> taking, List<Slice> data, int[] starts, int[] counts,
            java.util.function.Function<List<Slice>, List<List<Op>>> batched) {
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
            List<List<CardBuffer>> activations, Set<Long> lastTokenOnly, List<Join> joins, Allocator allocate) {
        int n = decode.size();
        PrefillPrograms p = new PrefillPrograms(batch, n);
        for (int c = 0; c < n; c++) {
            List<Op> ops = decode.get(c);
            if (ops == null || ops.isEmpty()) {
                continue;
            }
            p.twins[c] = new HashMap<>();
            for (CardBuffer b : activations.get(c)) {
                p.twins[c].put(b.handle(), allocate.allocate(c, b.bytes() * batch, b.purpose() + " x " + batch));
            }
            p.step[c] = allocate.allocate(c, 8L * batch, batch + " tokens and positions");
        }
        // per card: where each join's ops start in the decode program → (how many, the batched join's ops there)
        List<Map<Integer, Map.Entry<Integer, List<Op>>>> joinsAt = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            joinsAt.add(new HashMap<>());
        }
        try {
            for (Join join : joins) {
                List<Slice> all = new ArrayList<>();
                for (int i = 0; i < join.taking().size(); i++) {
                    Slice whole = p.all(join.taking().get(i), join.data().get(i));
                    if (whole == null) {
                        return Optional.empty();
                    }
                    all.add(whole);
                }
                List<List<Op>> ops = join.batched().apply(all);
                for (int i = 0; i < join.taking().size(); i++) {
                    if (join.counts()[i] == 0 && !ops.get(i).isEmpty()) {
                        return Optional.empty(); // nowhere to put it: a card the decode join leaves out
                    }
                    if (join.counts()[i] > 0) {
                        joinsAt.get(join.taking().get(i)).put(join.starts()[i], Map.entry(join.counts()[i], ops.get(i)));
                    }
                }
            }
        } catch (NotBatched e) {
            return Optional.empty();
        }
        List<List<Op>> rewritten = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            List<Op> ops = decode.get(c);
            if (ops == null || ops.isEmpty()) {
                rewritten.add(null);
                continue;
            }
            try {
                rewritten.add(p.rewrite(c, ops, decodeStep[c], lastTokenOnly, joinsAt.get(c)));
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

    private List<Op> rewrite(int c, List<Op> ops, CardBuffer decodeStep, Set<Long> lastTokenOnly,
            Map<Integer, Map.Entry<Integer, List<Op>>> joinsAt) throws NotBatched {
        List<Op> out = new ArrayList<>();
        for (int at = 0; at < ops.size(); at++) {
            Map.Entry<Integer, List<Op>> join = joinsAt.get(at);
            if (join != null) {
                out.addAll(join.getValue());
                at += join.getKey() - 1;
                continue;
            }
            Op op = ops.get(at);
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
            Op whole = allTokens(c, op);
            if (whole != null) {
                out.add(whole);
                continue;
            }
            for (int i = 0; i < batch; i++) {
                out.add(perToken(c, op, i, decodeStep));
            }
        }
        return out;
    }

    /**
     * An element-wise op (SwiGLU, the residual add) over whole activation buffers as one op over all the pass's
     * tokens (each element the same operation on the same values as token by token): one op a card can spread over its
     * threads, not a pass's worth of short ones. Null when an operand is not a whole twinned buffer.
     */
    private Op allTokens(int c, Op op) throws NotBatched {
        if (op instanceof Op.SwiGlu s && twinned(c, s.gate(), s.up(), s.out())) {
            Slice gate = all(c, s.gate()), up = all(c, s.up()), out = all(c, s.out());
            return gate == null || up == null || out == null ? null : new Op.SwiGlu(gate, up, out);
        }
        if (op instanceof Op.Add a && twinned(c, a.a(), a.b(), a.out())) {
            Slice x = all(c, a.a()), y = all(c, a.b()), out = all(c, a.out());
            return x == null || y == null || out == null ? null : new Op.Add(x, y, out);
        }
        return null;
    }

    private boolean twinned(int c, Slice... slices) {
        for (Slice s : slices) {
            if (!twins[c].containsKey(s.buffer())) {
                return false;
            }
        }
        return true;
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
            // a source without a twin holds no token's values (the zeros a card outside a join adds): read as is
            Slice from = twins[c].containsKey(k.from().buffer()) ? vector(c, k.from(), i) : k.from();
            return new Op.Copy(from, vector(c, k.to(), i));
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
