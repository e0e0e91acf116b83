package org.popsolutions.spanker.device.mock.card;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.card.Combine;
import org.popsolutions.spanker.api.card.LinkShaping;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.MatVec;
import org.popsolutions.spanker.ggml.kernel.PackedWeights;
import org.popsolutions.spanker.ggml.kernel.RowExecutor;
import org.popsolutions.spanker.ggml.ops.CardOps;
import org.popsolutions.spanker.ggml.ops.OpDispatch;
import org.popsolutions.spanker.ggml.ops.OpHandler;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormat;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * A program compiled against one mock card: every operand checked and resolved to its buffer once, scratch space
 * allocated once, so running it again (every token) allocates nothing of its own. The arithmetic is ggml's CPU
 * order where it matters, as the SPI's op documentation states.
 */
final class MockProgram {
    interface Step {
        void run();
    }

    /** An op that waits for a message: runs if it is here, else returns the link it waits on. */
    interface WaitingStep {
        MockLink tryRun();
    }

    /** Bytes [from, to) of a buffer, which an op writes. */
    record Range(MockRegion region, long from, long to) {
    }

    /** An operand that does not fit the op, found while compiling. */
    static final class CompileFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int opIndex;

        CompileFailure(int opIndex, String reason) {
            super(reason, null, false, false);
            this.opIndex = opIndex;
        }
    }

    /** {@code length} float32 values from value {@code at} of a buffer. */
    private record Floats(MockRegion region, int at, int length) {
        float[] array() {
            return region.floats();
        }
    }

    private static final Range[] NOTHING = new Range[0];

    private final MockCard card;
    /** The buffers the program names, each once (a prompt's program: a few hundred, in thousands of operands). */
    private final Set<MockRegion> used = Collections.newSetFromMap(new IdentityHashMap<>());
    private final float[] scores;
    /** Per op: its step, or (receive, forward) its waiting step. */
    private final Step[] steps;
    private final WaitingStep[] waiting;
    /** Per op of {@link #steps}: the ranges it writes, kept from messages that still read them first. */
    private final Range[][] writes;
    /** Per op, its kind in {@link OpTimes} (null when op times are off). */
    private final int[] kinds;

    MockProgram(MockCard card, Program program) {
        this.card = card;
        List<Op> ops = program.ops();
        this.scores = new float[scoresLength(ops)];
        this.steps = new Step[ops.size()];
        this.waiting = new WaitingStep[ops.size()];
        this.writes = new Range[ops.size()][];
        this.kinds = OpTimes.ON ? new int[ops.size()] : null;
        for (int i = 0; i < steps.length; i++) {
            Op op = ops.get(i);
            if (kinds != null) {
                kinds[i] = OpTimes.kind(op);
            }
            try {
                if (!(op instanceof Op.MatMul)) {
                    previousProduct = null;
                }
                Compiled compiled = OpDispatch.dispatch(op, compiler);
                if (compiled.waiting() != null) {
                    waiting[i] = compiled.waiting();
                } else {
                    steps[i] = compiled.step();
                    writes[i] = ranges(compiled.written());
                }
            } catch (OpFailure | IllegalArgumentException e) {
                throw new CompileFailure(i, e.getMessage());
            }
        }
        fuseTokenRuns(ops);
        if (FUSE_PRODUCTS) {
            fuseProducts(ops);
        }
    }

    /** Whether products of one activation run as one call ({@link #fuseProducts}); {@code -Dspanker.mock.fuseProducts}. */
    static final boolean FUSE_PRODUCTS = !"false".equals(System.getProperty("spanker.mock.fuseProducts"));

    int length() {
        return steps.length;
    }

    /**
     * A message of at most this many bytes carries a copy (a few hundred nanoseconds), larger ones read the sender's
     * memory in place until taken (bookkeeping that costs more than copying a few kilobytes).
     */
    static final long CARRY_BYTES = 8 * 1024;

    /**
     * Unshaped, programs moving at most this many bytes through link ops and folds are light (see {@link #isLight}):
     * up to here one thread running every card's part in turn (a few hundred microseconds of copying) beats handing
     * the parts to worker threads, which park and wake each time a card waits for a message. Measured on 2 loaded
     * cores (4 cards, allreduce 128 KiB to 1 MiB per card): 1.3 to 3 times faster than the 384 KiB limit before.
     */
    static final long LIGHT_BYTES = 4L << 20;

    /** Shaped, each card is held to its own deadlines: only small programs run on the submitting thread. */
    static final long LIGHT_SHAPED_BYTES = 384 * 1024;

    /**
     * Whether the program is little work: only link ops and folds, over at most {@link #LIGHT_BYTES} bytes in all
     * ({@link #LIGHT_SHAPED_BYTES} when shaped). Such a program can run on the thread that submits it (a thread
     * hand-over would cost more).
     */
    static boolean isLight(Program program, boolean shaped) {
        return isLight(linkBytes(program), shaped);
    }

    /** {@link #isLight} from the program's {@link #linkBytes} (counted once, asked shaped or not). */
    static boolean isLight(long linkBytes, boolean shaped) {
        return linkBytes >= 0 && linkBytes <= (shaped ? LIGHT_SHAPED_BYTES : LIGHT_BYTES);
    }

    /**
     * The bytes the program moves through link ops and folds, −1 when it computes; counting stops just past
     * {@link #LIGHT_BYTES} (the larger limit), since beyond it no program is light.
     */
    static long linkBytes(Program program) {
        long bytes = 0;
        for (Op op : program.ops()) {
            long moved = OpDispatch.dispatch(op, LINK_BYTES);
            if (moved < 0) {
                return -1;
            }
            bytes += moved;
            if (bytes > LIGHT_BYTES) {
                return bytes;
            }
        }
        return bytes;
    }

    /** The bytes a link op or a fold moves; -1 for an op that computes (never light). */
    private static final OpHandler<Long, RuntimeException> LINK_BYTES = new OpHandler<>() {
        private static final long COMPUTES = -1;

        @Override
        public Long embeddingRow(Op.EmbeddingRow op) {
            return COMPUTES;
        }

        @Override
        public Long matMul(Op.MatMul op) {
            return COMPUTES;
        }

        @Override
        public Long rmsNorm(Op.RmsNorm op) {
            return COMPUTES;
        }

        @Override
        public Long rope(Op.Rope op) {
            return COMPUTES;
        }

        @Override
        public Long attention(Op.Attention op) {
            return COMPUTES;
        }

        @Override
        public Long swiGlu(Op.SwiGlu op) {
            return COMPUTES;
        }

        @Override
        public Long add(Op.Add op) {
            return COMPUTES;
        }

        @Override
        public Long copy(Op.Copy op) {
            return op.to().bytes();
        }

        @Override
        public Long send(Op.Send op) {
            return op.values().bytes();
        }

        @Override
        public Long receive(Op.Receive op) {
            return op.values().bytes();
        }

        @Override
        public Long forward(Op.Forward op) {
            return op.bytes();
        }

        @Override
        public Long reduce(Op.Reduce op) {
            return op.into().bytes();
        }

        @Override
        public Long tagOrigins(Op.TagOrigins op) {
            return op.values().bytes();
        }

        @Override
        public Long divide(Op.Divide op) {
            return op.values().bytes();
        }
    };

    /** Runs op {@code i}: null when it ran, else the link whose message it waits for. */
    MockLink run(int i) {
        WaitingStep w = waiting[i];
        if (w != null) {
            return w.tryRun();
        }
        failedOp = -1;
        card.keepLent(writes[i]);
        if (OpTimes.ON && steps[i] != NO_STEP) {
            // an op whose work a run's first op does (fused) is counted there, not as a run of nothing
            long start = OpTimes.now();
            steps[i].run();
            OpTimes.add(kinds[i], OpTimes.now() - start);
            return null;
        }
        steps[i].run();
        return null;
    }

    /**
     * The op that failed in the last {@link #run}: {@code ran} itself, or, when {@code ran} began a run of ops taken
     * together, the op of that run whose own step failed.
     */
    int failedOp(int ran) {
        return failedOp >= 0 ? failedOp : ran;
    }

    private int failedOp = -1;

    private static final Step NO_STEP = () -> {
    };

    /**
     * A prompt pass repeats each per-token op once per token, one after the other (PrefillPrograms): RMSNorm, RoPE and
     * attention of a pass's tokens on twins of the activation buffers. Such a run, its ops independent of each other
     * (no op writes what another reads or writes), becomes one step at its first op that the card spreads over its
     * threads (a token's norm or rope alone is too short to hand over), the other ops' steps empty. Attention runs
     * are taken together when each op attends up to a later position than the one before (then no op reads a cache
     * row a later op writes): all the keys and values are written first, then each kv head's cache rows are copied
     * once for all the tokens. Every value is the op-by-op one bit for bit; when a run's positions do not allow it,
     * the ops run one by one, failing where they would alone.
     */
    private void fuseTokenRuns(List<Op> ops) {
        for (int i = 0; i < ops.size();) {
            int end = i + 1;
            Op first = ops.get(i);
            if (first instanceof Op.RmsNorm || first instanceof Op.Rope || first instanceof Op.Attention) {
                while (end < ops.size() && sameRun(first, ops.get(end))) {
                    end++;
                }
                end = independentPrefix(ops, i, end);
            }
            if (end - i >= 2) {
                Step[] own = Arrays.copyOfRange(steps, i, end);
                List<Range> union = new ArrayList<>();
                for (int k = i; k < end; k++) {
                    union.addAll(Arrays.asList(writes[k]));
                    writes[k] = NOTHING;
                    steps[k] = NO_STEP;
                }
                writes[i] = union.toArray(Range[]::new);
                if (kinds != null) {
                    // a prompt pass's run of ops is one step: counted apart from a decode step's single op
                    kinds[i] = OpTimes.kind(first.getClass().getSimpleName() + " run");
                }
                steps[i] = first instanceof Op.Attention
                        ? attentionRun(ops.subList(i, end), own, i)
                        : tokenRun(ops.subList(i, end), own, i);
            }
            i = end;
        }
    }

    /**
     * The end of the longest run of ops [from, end) none of which writes what another reads or writes (as taking them
     * one by one while each is independent of those before it). A prompt's program is compiled in its first pass,
     * before the JIT has compiled this, and holds runs of 64 ops: the usual answer (no op touches another's ranges) is
     * found by sorting the run's writes, not by comparing every pair of ops.
     */
    private static int independentPrefix(List<Op> ops, int from, int to) {
        int n = to - from;
        Slice[][] reads = new Slice[n][];
        Slice[][] written = new Slice[n][];
        for (int k = 0; k < n; k++) {
            reads[k] = reads(ops.get(from + k));
            written[k] = tokenWrites(ops.get(from + k));
        }
        if (noneConflicts(reads, written)) {
            return to;
        }
        for (int next = 1; next < n; next++) {
            for (int k = 0; k < next; k++) {
                if (conflict(written[next], reads[k]) || conflict(written[next], written[k])
                        || conflict(written[k], reads[next])) {
                    return from + next;
                }
            }
        }
        return to;
    }

    /** An op's operand range: [from, to) of a buffer. */
    private record Touch(long buffer, long from, long to, int op) {
    }

    private static final Comparator<Touch> BY_PLACE =
            Comparator.comparingLong(Touch::buffer).thenComparingLong(Touch::from);

    /**
     * True when no two ops' writes overlap and no op reads what another writes (false also when an op's own writes
     * overlap each other, or an operand is empty: then the pairwise check decides).
     */
    private static boolean noneConflicts(Slice[][] reads, Slice[][] written) {
        List<Touch> writes = new ArrayList<>();
        for (int k = 0; k < written.length; k++) {
            for (Slice w : written[k]) {
                if (w.isNone() || w.bytes() == 0) {
                    return false; // not a plain range: the pairwise check decides
                }
                writes.add(new Touch(w.buffer(), w.offset(), w.offset() + w.bytes(), k));
            }
        }
        writes.sort(BY_PLACE);
        for (int i = 1; i < writes.size(); i++) {
            Touch a = writes.get(i - 1);
            Touch b = writes.get(i);
            if (a.buffer() == b.buffer() && b.from() < a.to()) {
                return false;
            }
        }
        // the writes are disjoint and sorted: per buffer their ends rise too, so the one write a read could overlap
        // first is the first whose end lies past the read's start
        for (int k = 0; k < reads.length; k++) {
            for (Slice r : reads[k]) {
                if (r.isNone() || r.bytes() == 0) {
                    return false;
                }
                long start = r.offset();
                long end = r.offset() + r.bytes();
                int low = 0;
                int high = writes.size();
                while (low < high) {
                    int mid = (low + high) >>> 1;
                    Touch w = writes.get(mid);
                    if (w.buffer() < r.buffer() || (w.buffer() == r.buffer() && w.to() <= start)) {
                        low = mid + 1;
                    } else {
                        high = mid;
                    }
                }
                for (int i = low; i < writes.size(); i++) {
                    Touch w = writes.get(i);
                    if (w.buffer() != r.buffer() || w.from() >= end) {
                        break;
                    }
                    if (w.op() != k) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static boolean conflict(Slice[] writes, Slice[] others) {
        for (Slice w : writes) {
            if (overlapsAny(w, others)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code op} continues a run begun by {@code first}: the same kind over the same weights or caches. */
    private static boolean sameRun(Op first, Op op) {
        if (first instanceof Op.RmsNorm a && op instanceof Op.RmsNorm b) {
            return a.weight().equals(b.weight()) && a.epsilon() == b.epsilon()
                    && a.x().bytes() == b.x().bytes();
        }
        if (first instanceof Op.Rope a && op instanceof Op.Rope b) {
            return a.heads() == b.heads() && a.headDimension() == b.headDimension()
                    && a.ropeDimensions() == b.ropeDimensions() && a.base() == b.base();
        }
        if (first instanceof Op.Attention a && op instanceof Op.Attention b) {
            return a.keyCache().equals(b.keyCache()) && a.valueCache().equals(b.valueCache()) && a.heads() == b.heads()
                    && a.kvHeads() == b.kvHeads() && a.headDimension() == b.headDimension();
        }
        return false;
    }

    private static boolean overlapsAny(Slice s, Slice[] others) {
        for (Slice o : others) {
            if (overlaps(s, o)) {
                return true;
            }
        }
        return false;
    }

    /** What a token's op reads (an attention's caches are shared by the run and handled by its step). */
    private static Slice[] reads(Op op) {
        if (op instanceof Op.RmsNorm n) {
            return new Slice[] {n.x(), n.weight()};
        }
        if (op instanceof Op.Rope r) {
            return new Slice[] {r.vectors(), r.position()};
        }
        Op.Attention a = (Op.Attention) op;
        return new Slice[] {a.query(), a.key(), a.value(), a.position()};
    }

    /** What a token's op writes, its share of a shared cache left out (as in {@link #reads}). */
    private static Slice[] tokenWrites(Op op) {
        if (op instanceof Op.RmsNorm n) {
            return new Slice[] {n.out()};
        }
        if (op instanceof Op.Rope r) {
            return new Slice[] {r.vectors()};
        }
        return new Slice[] {((Op.Attention) op).out()};
    }

    /** A run of norms or ropes: each op's own step, the tokens spread over the card's threads. */
    private Step tokenRun(List<Op> run, Step[] own, int firstOp) {
        MockRegion[] positions = new MockRegion[run.size()];
        for (int k = 0; k < run.size(); k++) {
            if (run.get(k) instanceof Op.Rope r) {
                positions[k] = region(r.position(), "position");
            }
        }
        RowExecutor.RowRange range = (from, to) -> {
            for (int k = from; k < to; k++) {
                own[k].run();
            }
        };
        return () -> {
            for (int k = 0; k < own.length; k++) {
                // a negative position fails in the op's own step: run them one by one, to fail where it would alone
                if (positions[k] != null && positions[k].int32(((Op.Rope) run.get(k)).position().offset()) < 0) {
                    oneByOne(own, firstOp);
                    return;
                }
            }
            card.rows.forRows(own.length, range);
        };
    }

    /**
     * A run of attention ops (a pass's tokens, one block): when the positions rise op by op and fit the cache, every
     * token's key and value are written, then each kv head attends for every token over one copy of its cache rows;
     * the kv heads are spread over the card's threads. Otherwise the ops' own steps, one by one.
     */
    private Step attentionRun(List<Op> run, Step[] own, int firstOp) {
        Op.Attention a0 = (Op.Attention) run.get(0);
        int n = run.size();
        int hd = a0.headDimension();
        int heads = a0.heads();
        int kvWidth = a0.kvHeads() * hd;
        RegionView<FloatBuffer> keys = floatView(a0.keyCache(), "key cache");
        RegionView<FloatBuffer> values = floatView(a0.valueCache(), "value cache");
        int capacity = (int) (a0.keyCache().bytes() / Float.BYTES) / kvWidth;
        Floats[] key = new Floats[n];
        Floats[] value = new Floats[n];
        MockRegion[] pos = new MockRegion[n];
        AttentionRun tokens = new AttentionRun(n, heads / a0.kvHeads(), hd, kvWidth, capacity,
                (float) (1.0 / Math.sqrt(hd)), scores(heads * capacity));
        for (int k = 0; k < n; k++) {
            Op.Attention a = (Op.Attention) run.get(k);
            tokens.query[k] = floats(a.query(), "query", (long) heads * hd);
            tokens.out[k] = floats(a.out(), "out", (long) heads * hd);
            key[k] = floats(a.key(), "key", kvWidth);
            value[k] = floats(a.value(), "value", kvWidth);
            pos[k] = region(a.position(), "position");
        }
        return () -> {
            int[] positions = tokens.positions;
            for (int k = 0, previous = -1; k < n; k++) {
                int p = pos[k].int32(((Op.Attention) run.get(k)).position().offset());
                if (p <= previous || p >= capacity) {
                    oneByOne(own, firstOp);
                    return;
                }
                positions[k] = previous = p;
            }
            FloatBuffer k = keys.get();
            FloatBuffer v = values.get();
            for (int t = 0; t < n; t++) {
                k.put(positions[t] * kvWidth, key[t].array(), key[t].at(), kvWidth);
                v.put(positions[t] * kvWidth, value[t].array(), value[t].at(), kvWidth);
            }
            keys.changed();
            values.changed();
            for (int t = 0; t < n; t++) {
                Floats o = tokens.out[t];
                Arrays.fill(o.array(), o.at(), o.at() + heads * hd, 0f);
            }
            tokens.set(k, v);
            card.rows.forRows(a0.kvHeads(), tokens);
        };
    }

    /**
     * A run of attention ops' tokens, a share of kv heads per row thread: each kv head's cache rows up to the last
     * token's position are copied once, then every token's query heads of that kv head attend over the rows up to its
     * own position ({@link CardOps#attentionHeadsOnRows}: {@link CardOps#attentionHeads}'s values bit for bit).
     */
    private static final class AttentionRun implements RowExecutor.RowRange {
        final Floats[] query;
        final Floats[] out;
        final int[] positions;
        private final int group;
        private final int hd;
        private final int kvWidth;
        private final int capacity;
        private final float scale;
        private final float[] scores;
        private FloatBuffer k;
        private FloatBuffer v;

        AttentionRun(int tokens, int group, int hd, int kvWidth, int capacity, float scale, float[] scores) {
            this.query = new Floats[tokens];
            this.out = new Floats[tokens];
            this.positions = new int[tokens];
            this.group = group;
            this.hd = hd;
            this.kvWidth = kvWidth;
            this.capacity = capacity;
            this.scale = scale;
            this.scores = scores;
        }

        void set(FloatBuffer keys, FloatBuffer values) {
            k = keys;
            v = values;
        }

        @Override
        public void run(int fromKv, int toKv) {
            int copied = positions[positions.length - 1] + 1;
            for (int g = fromKv; g < toKv; g++) {
                float[] rows = CardOps.kvHeadRows(k, v, kvWidth, g * hd, hd, copied);
                int head = g * group;
                for (int t = 0; t < positions.length; t++) {
                    Floats q = query[t];
                    Floats o = out[t];
                    CardOps.attentionHeadsOnRows(q.array(), q.at() + head * hd, group, rows, copied, hd, positions[t],
                            scale, scores, head * capacity, capacity, o.array(), o.at() + head * hd);
                }
            }
        }
    }

    /** The ops' own steps in order, a failure reported at its own op. */
    private void oneByOne(Step[] own, int firstOp) {
        for (int k = 0; k < own.length; k++) {
            failedOp = firstOp + k;
            own[k].run();
        }
        failedOp = -1;
    }

    private Range[] ranges(Slice[] slices) {
        List<Range> ranges = new ArrayList<>(slices.length);
        for (Slice s : slices) {
            if (!s.isNone()) {
                ranges.add(new Range(card.region(s.buffer()), s.offset(), s.offset() + s.bytes()));
            }
        }
        return ranges.isEmpty() ? NOTHING : ranges.toArray(Range[]::new);
    }

    /** False once a buffer the program names has been freed (its handle will not come back). */
    boolean stillValid() {
        for (MockRegion r : used) {
            if (r.freed) {
                return false;
            }
        }
        return true;
    }

    private MockRegion region(Slice s, String what) {
        if (s.isNone()) {
            throw new OpFailure(what + " is missing");
        }
        MockRegion r = card.region(s.buffer());
        if (s.offset() + s.bytes() > r.bytes) {
            throw new OpFailure(what + ": bytes [" + s.offset() + ", " + (s.offset() + s.bytes()) + ") fall outside "
                    + r.purpose + " (" + r.bytes + " bytes)");
        }
        used.add(r);
        return r;
    }

    private Floats floats(Slice s, String what, long expected) {
        MockRegion r = region(s, what);
        if (s.offset() % Float.BYTES != 0 || s.bytes() % Float.BYTES != 0) {
            throw new OpFailure(what + " is not a range of whole float32 values (offset " + s.offset() + ", "
                    + s.bytes() + " bytes)");
        }
        if (expected >= 0 && s.bytes() != expected * Float.BYTES) {
            throw new OpFailure(what + " holds " + s.bytes() / Float.BYTES + " values, the op needs " + expected);
        }
        return new Floats(r, (int) (s.offset() / Float.BYTES), (int) (s.bytes() / Float.BYTES));
    }

    private static GgmlType type(int id) {
        GgmlType t = GgmlType.byId(id).orElseThrow(() -> new OpFailure("no ggml type has id " + id));
        if (!t.computable() || QuantFormats.find(t).isEmpty() || !Kernels.supports(t)) {
            throw new OpFailure("this card does not compute with " + t.ggmlName() + " weights");
        }
        return t;
    }

    private int position(MockRegion r, Slice s) {
        int p = r.int32(s.offset());
        if (p < 0) {
            throw new OpFailure("position/row " + p + " is negative");
        }
        return p;
    }

    /**
     * An op compiled: a step, or (receive, forward) a waiting step, and the operands the step writes (kept from
     * messages that still read them first; receives and forwards keep their own).
     */
    private record Compiled(Step step, WaitingStep waiting, Slice... written) {
        static Compiled step(Step step, Slice... written) {
            return new Compiled(step, null, written);
        }

        static Compiled waiting(WaitingStep waiting) {
            return new Compiled(null, waiting);
        }
    }

    /** Each op kind compiled against this card's buffers. */
    private final OpHandler<Compiled, RuntimeException> compiler = new OpHandler<>() {
        @Override
        public Compiled embeddingRow(Op.EmbeddingRow e) {
            return Compiled.step(MockProgram.this.embeddingRow(e), e.out());
        }

        @Override
        public Compiled matMul(Op.MatMul m) {
            return Compiled.step(MockProgram.this.matMul(m), m.out());
        }

        @Override
        public Compiled rmsNorm(Op.RmsNorm n) {
            return Compiled.step(MockProgram.this.rmsNorm(n), n.out());
        }

        @Override
        public Compiled rope(Op.Rope r) {
            return Compiled.step(MockProgram.this.rope(r), r.vectors());
        }

        @Override
        public Compiled attention(Op.Attention a) {
            return Compiled.step(MockProgram.this.attention(a), a.out(), a.keyCache(), a.valueCache());
        }

        @Override
        public Compiled swiGlu(Op.SwiGlu g) {
            return Compiled.step(MockProgram.this.swiGlu(g), g.out());
        }

        @Override
        public Compiled add(Op.Add a) {
            return Compiled.step(MockProgram.this.add(a), a.out());
        }

        @Override
        public Compiled copy(Op.Copy c) {
            return Compiled.step(MockProgram.this.copy(c), c.to());
        }

        @Override
        public Compiled send(Op.Send s) {
            return Compiled.step(MockProgram.this.send(s));
        }

        @Override
        public Compiled receive(Op.Receive r) {
            return Compiled.waiting(MockProgram.this.receive(r));
        }

        @Override
        public Compiled forward(Op.Forward f) {
            return Compiled.waiting(MockProgram.this.forward(f));
        }

        @Override
        public Compiled reduce(Op.Reduce r) {
            return Compiled.step(MockProgram.this.reduce(r), r.into(), r.intoTags());
        }

        @Override
        public Compiled tagOrigins(Op.TagOrigins t) {
            return Compiled.step(MockProgram.this.tagOrigins(t), t.values(), t.tags());
        }

        @Override
        public Compiled divide(Op.Divide d) {
            return Compiled.step(MockProgram.this.divide(d), d.values());
        }
    };

    private Step embeddingRow(Op.EmbeddingRow e) {
        GgmlType t = type(e.ggmlType());
        QuantFormat format = QuantFormats.of(t);
        Kernels.checkRow(t, e.rowLength());
        long rowBytes = t.bytesFor(e.rowLength());
        MockRegion table = region(e.table(), "table");
        long tableRows = e.table().bytes() / rowBytes;
        MockRegion index = region(e.rowIndex(), "row index");
        if (e.rowIndex().bytes() < Integer.BYTES) {
            throw new OpFailure("row index holds " + e.rowIndex().bytes() + " bytes, an int32 needs 4");
        }
        Floats out = floats(e.out(), "out", e.rowLength());
        long tableOffset = e.table().offset();
        return () -> {
            int row = position(index, e.rowIndex());
            if (row >= tableRows) {
                throw new OpFailure("row " + row + " is outside the table's " + tableRows + " rows");
            }
            format.dequantize(table.bytes(), (int) (tableOffset + row * rowBytes), out.array(), out.at(), out.length());
        };
    }

    private Step matMul(Op.MatMul m) {
        GgmlType t = type(m.ggmlType());
        if (m.rows() > 0) {
            Kernels.checkRow(t, m.columns());
        }
        long bytes = t.bytesFor(m.columns()) * m.rows();
        if (m.weights().bytes() != bytes) {
            throw new OpFailure("weights hold " + m.weights().bytes() + " bytes; " + m.rows() + " rows of "
                    + m.columns() + " " + t.ggmlName() + " values are " + bytes);
        }
        MockRegion weights = region(m.weights(), "weights");
        Floats x = floats(m.x(), "x", (long) m.vectors() * m.columns());
        Floats out = floats(m.out(), "out", (long) m.vectors() * m.rows());
        DotMode mode = m.mode() == ActivationMode.GGML ? DotMode.GGML : DotMode.FLOAT;
        RegionView<ByteBuffer> view = new RegionView<>(weights, m.weights(), Function.identity());
        if (m.rows() == 0) {
            return () -> {
            };
        }
        // the product's activation workspace and row work are made once (again only if the card's threads change):
        // a decode step allocates nothing here; several vectors (a prompt pass) go through the kernels' tiles
        // the op just before is a product of the same activation (q, k, v; gate, up) that leaves it as it was: it ran
        // last, so its prepared (quantized) activation is this one's, bit for bit
        ProductStep sameActivation = previousProduct != null && sameActivation(previousProduct.op, m)
                ? previousProduct : null;
        PackedSlot packedSlot = m.vectors() == 1 ? new PackedSlot(weights, m.weights(), t, m.rows(), m.columns(), view)
                : null;
        ProductStep step = new ProductStep(m, t, mode, x, out, view, packedSlot, sameActivation);
        previousProduct = step;
        return step;
    }

    /**
     * A compiled product: made once, its {@link MatVec.Product} made again only when the card's threads change. Run
     * alone ({@link #run}) or, one vector, prepared to run with the products after it that read the same activation
     * ({@link #prepare}, {@link ProductsTogether}).
     */
    private final class ProductStep implements Step {
        final Op.MatMul op;
        private final GgmlType type;
        private final DotMode mode;
        private final Floats x;
        private final Floats out;
        private final RegionView<ByteBuffer> view;
        private final PackedSlot packedSlot;
        /** The product just before, whose prepared activation this one reads; null when it prepares its own. */
        private final ProductStep sameActivation;
        private MatVec.Product product;
        private MatVec boundTo;

        ProductStep(Op.MatMul op, GgmlType type, DotMode mode, Floats x, Floats out, RegionView<ByteBuffer> view,
                PackedSlot packedSlot, ProductStep sameActivation) {
            this.op = op;
            this.type = type;
            this.mode = mode;
            this.x = x;
            this.out = out;
            this.view = view;
            this.packedSlot = packedSlot;
            this.sameActivation = sameActivation;
        }

        /** The card's product of this shape, made again if the card's threads (its MatVec) changed. */
        MatVec.Product product() {
            MatVec matVec = card.matVec;
            if (boundTo != matVec) {
                product = matVec.product(type, op.rows(), op.columns(), op.vectors(), mode);
                boundTo = matVec;
            }
            return product;
        }

        private PackedWeights packed(MatVec matVec) {
            return packedSlot != null && matVec.readsPacked(type, mode) ? packedSlot.get() : null;
        }

        private boolean sharesActivation(MatVec matVec) {
            return sameActivation != null && sameActivation.boundTo == matVec;
        }

        @Override
        public void run() {
            MatVec.Product p = product();
            MatVec matVec = boundTo;
            PackedWeights packed = packed(matVec);
            if (packed != null) {
                if (sharesActivation(matVec)) {
                    p.runOnActivationOf(sameActivation.product, packed, out.array(), out.at());
                } else {
                    p.run(packed, x.array(), x.at(), 1, out.array(), out.at());
                }
            } else if (sharesActivation(matVec)) {
                p.runOnActivationOf(sameActivation.product, view.get(), out.array(), out.at());
            } else {
                p.run(view.get(), x.array(), x.at(), op.vectors(), out.array(), out.at());
            }
        }

        /** As {@link #run} of one vector, up to the rows (the product's activation prepared, the product bound). */
        void prepare() {
            MatVec.Product p = product();
            MatVec matVec = boundTo;
            PackedWeights packed = packed(matVec);
            if (packed != null) {
                if (sharesActivation(matVec)) {
                    p.prepareOnActivationOf(sameActivation.product, packed, out.array(), out.at());
                } else {
                    p.prepare(packed, x.array(), x.at(), out.array(), out.at());
                }
            } else if (sharesActivation(matVec)) {
                p.prepareOnActivationOf(sameActivation.product, view.get(), out.array(), out.at());
            } else {
                p.prepare(view.get(), x.array(), x.at(), out.array(), out.at());
            }
        }
    }

    /**
     * One-vector products of one activation, one after the other in the program (a block's q, k and v; gate and up),
     * as one call on the card's threads ({@link MatVec#together}): one hand-over instead of one per product, and the
     * small ones not cut into chunks of a few rows. The same values bit for bit as the products one by one.
     */
    private final class ProductsTogether implements Step {
        private final ProductStep[] parts;
        private final MatVec.Product[] products;
        private MatVec.Together together;
        private MatVec boundTo;

        ProductsTogether(ProductStep[] parts) {
            this.parts = parts;
            this.products = new MatVec.Product[parts.length];
        }

        @Override
        public void run() {
            MatVec matVec = card.matVec;
            for (ProductStep part : parts) {
                part.prepare();
            }
            if (boundTo != matVec) {
                for (int i = 0; i < parts.length; i++) {
                    products[i] = parts[i].product();
                }
                together = matVec.together(products);
                boundTo = matVec;
            }
            together.run();
        }
    }

    /**
     * Runs of one-vector products that can go to the threads as one call: each after the first reads the activation
     * the one before prepared, and no product writes what any of them reads or another writes (the outputs apart from
     * the activation, every weight and each other), so running them together is running them in order.
     */
    private void fuseProducts(List<Op> ops) {
        for (int i = 0; i < steps.length;) {
            int end = i + 1;
            if (steps[i] instanceof ProductStep first && first.op.vectors() == 1 && first.sameActivation == null) {
                while (end < steps.length && steps[end] instanceof ProductStep next && next.sameActivation == steps[end - 1]
                        && independentProducts(ops, i, end + 1)) {
                    end++;
                }
            }
            if (end - i >= 2) {
                ProductStep[] parts = new ProductStep[end - i];
                List<Range> union = new ArrayList<>();
                int rows = 0;
                for (int k = i; k < end; k++) {
                    parts[k - i] = (ProductStep) steps[k];
                    rows += parts[k - i].op.rows();
                    union.addAll(Arrays.asList(writes[k]));
                    writes[k] = NOTHING;
                    steps[k] = NO_STEP;
                }
                writes[i] = union.toArray(Range[]::new);
                steps[i] = new ProductsTogether(parts);
                productsTogether++;
                if (kinds != null) {
                    Op.MatMul m = parts[0].op;
                    kinds[i] = OpTimes.kind("MatMul " + parts.length + " together " + rows + "x" + m.columns() + " type "
                            + m.ggmlType() + " vectors 1");
                }
            }
            i = end;
        }
    }

    /** How many runs of products {@link #fuseProducts} made one step each (tests). */
    int productsTogether() {
        return productsTogether;
    }

    private int productsTogether;

    /** Whether products [from, to) write nothing that one of them reads or another writes. */
    private static boolean independentProducts(List<Op> ops, int from, int to) {
        for (int a = from; a < to; a++) {
            Op.MatMul m = (Op.MatMul) ops.get(a);
            for (int b = from; b < to; b++) {
                Op.MatMul o = (Op.MatMul) ops.get(b);
                if (overlaps(m.out(), o.x()) || overlaps(m.out(), o.weights()) || (a != b && overlaps(m.out(), o.out()))) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * A one-vector product's weights repacked for the portable kernels (which read them faster; issue 12), asked of
     * the card when the buffer's contents or form changed since the last ask, else the answer kept: a decode step
     * looks nothing up. Null when the card does not pack them (no packed layout, no room, bytes not off the heap).
     */
    private final class PackedSlot {
        private final MockRegion region;
        private final Slice slice;
        private final GgmlType type;
        private final int rows;
        private final int cols;
        private final RegionView<ByteBuffer> view;
        private int askedAt = -1;
        private boolean asked;
        private PackedWeights packed;

        PackedSlot(MockRegion region, Slice slice, GgmlType type, int rows, int cols, RegionView<ByteBuffer> view) {
            this.region = region;
            this.slice = slice;
            this.type = type;
            this.rows = rows;
            this.cols = cols;
            this.view = view;
        }

        PackedWeights get() {
            int version = region.version();
            if (!asked || version != askedAt) {
                ByteBuffer ggml = view.get();
                packed = ggml.isDirect() ? card.packed(region, slice, type, rows, cols, ggml) : null;
                askedAt = version;
                asked = true;
            }
            return packed;
        }
    }

    /** The product compiled just before the op being compiled, or null when that op was not a product. */
    private ProductStep previousProduct;

    /** Whether {@code next} reads the activation {@code previous} prepared, unchanged (previous's out is elsewhere). */
    private static boolean sameActivation(Op.MatMul previous, Op.MatMul next) {
        return previous.x().equals(next.x()) && previous.ggmlType() == next.ggmlType()
                && previous.columns() == next.columns() && previous.vectors() == next.vectors()
                && previous.mode() == next.mode() && !overlaps(previous.out(), previous.x());
    }

    private static boolean overlaps(Slice a, Slice b) {
        return a.buffer() == b.buffer() && a.offset() < b.offset() + b.bytes() && b.offset() < a.offset() + a.bytes();
    }

    /**
     * A range of a buffer as a little-endian view of its own (index 0 = the range's first byte or value: kernels and
     * the KV cache index from 0), taken again if the buffer changed form.
     */
    private static final class RegionView<T> {
        private final MockRegion region;
        private final Slice slice;
        private final Function<ByteBuffer, T> as;
        private T view;
        private int form = -1;

        RegionView(MockRegion region, Slice slice, Function<ByteBuffer, T> as) {
            this.region = region;
            this.slice = slice;
            this.as = as;
        }

        /** The op wrote into the view (a packed copy of the buffer's weights is no longer theirs). */
        void changed() {
            region.changed();
        }

        /** The buffer's {@link MockRegion#version}: changed by every write into it, and by a change of its form. */
        int version() {
            return region.version();
        }

        T get() {
            ByteBuffer bytes = region.bytes();
            if (view == null || form != region.form()) {
                view = as.apply(bytes.slice((int) slice.offset(), (int) slice.bytes()).order(ByteOrder.LITTLE_ENDIAN));
                form = region.form();
            }
            return view;
        }
    }

    private Step rmsNorm(Op.RmsNorm n) {
        Floats x = floats(n.x(), "x", -1);
        Floats w = floats(n.weight(), "weight", x.length());
        Floats out = floats(n.out(), "out", x.length());
        float eps = n.epsilon();
        return () -> CardOps.rmsNorm(x.array(), x.at(), w.array(), w.at(), out.array(), out.at(), x.length(), eps);
    }

    private Step rope(Op.Rope r) {
        int hd = r.headDimension();
        if (r.ropeDimensions() < 0 || r.ropeDimensions() > hd || r.ropeDimensions() % 2 != 0) {
            throw new OpFailure("RoPE dimensions " + r.ropeDimensions() + " must be even and at most the head"
                    + " dimension " + hd);
        }
        Floats v = floats(r.vectors(), "vectors", (long) r.heads() * hd);
        MockRegion pos = region(r.position(), "position");
        float[] cos = new float[r.ropeDimensions() / 2];
        float[] sin = new float[cos.length];
        float base = r.base();
        return () -> {
            CardOps.ropeAnglesOfThread(position(pos, r.position()), base, hd, cos, sin);
            CardOps.rope(v.array(), v.at(), r.heads(), hd, cos, sin);
        };
    }

    private Step attention(Op.Attention a) {
        int hd = a.headDimension();
        int heads = a.heads();
        int kvHeads = a.kvHeads();
        int kvWidth = kvHeads * hd;
        Floats query = floats(a.query(), "query", (long) heads * hd);
        Floats key = floats(a.key(), "key", kvWidth);
        Floats value = floats(a.value(), "value", kvWidth);
        // the caches stay raw bytes, off the heap: they are the card's largest buffers after the weights
        RegionView<FloatBuffer> keys = floatView(a.keyCache(), "key cache");
        RegionView<FloatBuffer> values = floatView(a.valueCache(), "value cache");
        if (a.valueCache().bytes() != a.keyCache().bytes()) {
            throw new OpFailure("value cache holds " + a.valueCache().bytes() / Float.BYTES + " values, the op needs "
                    + a.keyCache().bytes() / Float.BYTES);
        }
        Floats out = floats(a.out(), "out", (long) heads * hd);
        MockRegion pos = region(a.position(), "position");
        int cacheLength = (int) (a.keyCache().bytes() / Float.BYTES);
        if (kvWidth == 0 || cacheLength % kvWidth != 0) {
            throw new OpFailure("the KV cache (" + cacheLength + " values) is not rows of " + kvWidth + " values");
        }
        int capacity = cacheLength / kvWidth;
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] scores = scores(heads * capacity);
        MockRegion keyRegion = region(a.keyCache(), "key cache");
        MockRegion valueRegion = region(a.valueCache(), "value cache");
        Slice keySlice = a.keyCache();
        long valueOffset = a.valueCache().offset();
        AttentionRows rows = new AttentionRows(query, out, scores, hd, kvWidth, group, capacity, scale, kvHeads,
                () -> card.keptKvRows(keyRegion, keySlice, valueRegion, valueOffset, kvHeads, hd, capacity));
        return () -> {
            int position = position(pos, a.position());
            if (position >= capacity) {
                throw new OpFailure("position " + position + " is outside the KV cache's " + capacity + " rows");
            }
            FloatBuffer k = keys.get();
            FloatBuffer v = values.get();
            // the kept copy holds the cache's rows only if nothing but this op changed the caches since its last run
            int keysBefore = keys.version();
            int valuesBefore = values.version();
            k.put(position * kvWidth, key.array(), key.at(), kvWidth);
            v.put(position * kvWidth, value.array(), value.at(), kvWidth);
            keys.changed();
            values.changed();
            float[] o = out.array();
            Arrays.fill(o, out.at(), out.at() + heads * hd, 0f);
            rows.set(k, v, position, keysBefore, valuesBefore, keys.version(), values.version());
            // a thread's share is whole groups of heads sharing a KV head: the group reads the cache rows once
            card.rows.forRows(heads, group, rows);
            rows.ran();
        };
    }

    /**
     * Whether a decode step's attention keeps each kv head's cache rows copied from token to token (only the rows
     * written since the last step are copied), instead of copying all of them at every step; {@code
     * -Dspanker.mock.keepKvRows=false} copies them at every step (for measuring one against the other).
     */
    static final boolean KEEP_KV_ROWS = !"false".equals(System.getProperty("spanker.mock.keepKvRows"));

    /**
     * One attention op's heads, a share per row thread; made once per op (its per-call state set before each run), so
     * a decode step allocates nothing for it. Each head is {@link CardOps#attentionHead}'s, as on every card.
     *
     * <p>Each kv head's cache rows are kept copied in the layout attention reads ({@link CardOps#copyKvHeadRows}: keys
     * transposed, values as rows), from one run of the op to the next: a decode step copies the one row it wrote, not
     * every row up to its position (copying and transposing them was about 40 % of a step's attention). The copy is
     * good while the caches' buffers changed only by this op's own writes since its last run (their version, which
     * every write bumps, is then the one it left); any other change (a prompt pass, a host write, another op) and it is
     * copied again from the cache. The copy ({@link KeptKvRows}) is the card's: sized once to all of the cache's rows
     * at the first decode step, counted in the card's memory, dropped when a buffer needs the room; where the card or
     * the heap has no room for it, every step copies as before.
     */
    private static final class AttentionRows implements RowExecutor.RowRange {
        private final Floats query;
        private final Floats out;
        private final float[] scores;
        private final int hd;
        private final int kvWidth;
        private final int group;
        private final int capacity;
        private final float scale;
        /** Asks the card for the kept copy (null: none, copy every step). */
        private final java.util.function.Supplier<KeptKvRows> keptOfCard;
        /** The card's kept copy this op last used, or null. */
        private KeptKvRows kept;
        /** The kept copy of this run, or null: copy all, as before. */
        private KeptKvRows using;
        private int keysAfter = -1;
        private int valuesAfter = -1;
        private FloatBuffer k;
        private FloatBuffer v;
        private int position;
        /** The rows each kv head's kept copy takes from the cache in this run. */
        private int copyFrom;
        private int copyTo;

        AttentionRows(Floats query, Floats out, float[] scores, int hd, int kvWidth, int group, int capacity,
                float scale, int kvHeads, java.util.function.Supplier<KeptKvRows> keptOfCard) {
            this.query = query;
            this.out = out;
            this.scores = scores;
            this.hd = hd;
            this.kvWidth = kvWidth;
            this.group = group;
            this.capacity = capacity;
            this.scale = scale;
            this.keptOfCard = keptOfCard;
        }

        /**
         * The run's caches and position ({@code at}, whose row was just written); the caches' versions before that
         * write and after it.
         */
        void set(FloatBuffer keys, FloatBuffer values, int at, int keysBefore, int valuesBefore, int keysNow,
                int valuesNow) {
            k = keys;
            v = values;
            position = at;
            KeptKvRows c = kept;
            if (c == null || c.dropped) {
                c = kept = keptOfCard.get();
            }
            using = c;
            if (c == null) {
                return;
            }
            if (c.keysVersion != keysBefore || c.valuesVersion != valuesBefore) {
                c.filled = 0;
            }
            if (at < c.filled) {
                // an earlier position written again: that row alone changed
                copyFrom = at;
                copyTo = at + 1;
            } else {
                copyFrom = c.filled;
                copyTo = at + 1;
                c.filled = at + 1;
            }
            // good only once every kv head's copy has taken this run's rows (a run that fails part way leaves it stale)
            c.keysVersion = -1;
            c.valuesVersion = -1;
            keysAfter = keysNow;
            valuesAfter = valuesNow;
        }

        /** The run went through: the kept copy holds the caches' rows as they are now. */
        void ran() {
            KeptKvRows c = using;
            if (c != null) {
                c.keysVersion = keysAfter;
                c.valuesVersion = valuesAfter;
            }
        }

        @Override
        public void run(int from, int to) {
            float[] q = query.array();
            float[] o = out.array();
            // the heads that share a kv head together: its cache rows are read once for all of them (the executor
            // hands out whole groups, so one thread brings a kv head's kept copy up to date before its heads read it)
            for (int h = from; h < to;) {
                int g = h / group;
                int end = Math.min(to, (g + 1) * group);
                KeptKvRows c = using;
                if (c != null) {
                    float[] rows = c.heads[g];
                    if (h == g * group) {
                        CardOps.copyKvHeadRows(k, v, kvWidth, g * hd, hd, rows, c.rows, copyFrom, copyTo);
                    }
                    CardOps.attentionHeadsOnRows(q, query.at() + h * hd, end - h, rows, c.rows, hd, position, scale,
                            scores, h * capacity, capacity, o, out.at() + h * hd);
                } else {
                    CardOps.attentionHeads(q, query.at() + h * hd, end - h, k, v, kvWidth, g * hd, hd, position,
                            scale, scores, h * capacity, capacity, o, out.at() + h * hd);
                }
                h = end;
            }
        }
    }

    /**
     * The attention scores' scratch, one array per program shared by its attention ops (they run one after the
     * other): a prompt's program has an attention op per token and block, and an array each would be hundreds of MB.
     */
    private float[] scores(int length) {
        if (scores.length < length) {
            throw new IllegalStateException("attention scratch of " + scores.length + " values, " + length + " needed");
        }
        return scores;
    }

    /** The most scores any attention op of {@code ops} needs (heads × cache rows). */
    private static int scoresLength(List<Op> ops) {
        long most = 0;
        for (Op op : ops) {
            if (op instanceof Op.Attention a && a.kvHeads() > 0 && a.headDimension() > 0) {
                long rows = a.keyCache().bytes() / Float.BYTES / ((long) a.kvHeads() * a.headDimension());
                most = Math.max(most, (long) a.heads() * rows);
            }
        }
        if (most > Integer.MAX_VALUE - 8) {
            throw new OpFailure("attention over " + most + " scores does not fit one Java array");
        }
        return (int) most;
    }

    private RegionView<FloatBuffer> floatView(Slice s, String what) {
        MockRegion r = region(s, what);
        if (s.offset() % Float.BYTES != 0 || s.bytes() % Float.BYTES != 0) {
            throw new OpFailure(what + " is not a range of whole float32 values (offset " + s.offset() + ", "
                    + s.bytes() + " bytes)");
        }
        return new RegionView<>(r, s, ByteBuffer::asFloatBuffer);
    }

    private Step swiGlu(Op.SwiGlu s) {
        Floats gate = floats(s.gate(), "gate", -1);
        Floats up = floats(s.up(), "up", gate.length());
        Floats out = floats(s.out(), "out", gate.length());
        return elementWise(gate.length(), (from, to) -> CardOps.swiGlu(gate.array(), gate.at() + from, up.array(),
                up.at() + from, out.array(), out.at() + from, to - from));
    }

    private Step add(Op.Add op) {
        Floats a = floats(op.a(), "a", -1);
        Floats b = floats(op.b(), "b", a.length());
        Floats out = floats(op.out(), "out", a.length());
        return elementWise(a.length(), (from, to) -> CardOps.add(a.array(), a.at() + from, b.array(), b.at() + from,
                out.array(), out.at() + from, to - from));
    }

    /**
     * Values at least this many an element-wise op spreads over the card's threads (a prompt pass's SwiGLU or residual
     * add over all its tokens); a token's own (a few thousand) stay on one thread, where a hand-over would cost more.
     */
    static final int PARALLEL_ELEMENTS = 32 * 1024;

    /** An element-wise op over {@code length} values: each value alone, so any split gives the same bits. */
    private Step elementWise(int length, RowExecutor.RowRange range) {
        if (length < PARALLEL_ELEMENTS) {
            return () -> range.run(0, length);
        }
        return () -> card.rows.forRows(length, 64, range);
    }

    private Step copy(Op.Copy c) {
        if (c.from().bytes() != c.to().bytes()) {
            throw new OpFailure("copy from " + c.from().bytes() + " bytes into " + c.to().bytes());
        }
        MockRegion fromRegion = region(c.from(), "from");
        MockRegion toRegion = region(c.to(), "to");
        boolean aligned = c.from().offset() % 4 == 0 && c.to().offset() % 4 == 0 && c.from().bytes() % 4 == 0
                && fromRegion.bytes % 4 == 0 && toRegion.bytes % 4 == 0;
        int fromAt = (int) (c.from().offset() / Float.BYTES);
        int toAt = (int) (c.to().offset() / Float.BYTES);
        int count = (int) (c.from().bytes() / Float.BYTES);
        return () -> {
            // float32 data moves as floats; origin tags and odd ranges as bytes
            if (aligned && (fromRegion.isFloats() || toRegion.isFloats())) {
                System.arraycopy(fromRegion.floats(), fromAt, toRegion.floats(), toAt, count);
            } else {
                toRegion.bytes().put((int) c.to().offset(), fromRegion.bytes(), (int) c.from().offset(),
                        (int) c.from().bytes());
                toRegion.changed();
            }
        };
    }

    private MockPort port(int port) {
        if (port < 0 || port >= card.ports.length) {
            throw new OpFailure("card " + card.index() + " has ports 0.." + (card.ports.length - 1) + ", not " + port);
        }
        return card.ports[port];
    }

    private MockRegion tags(Slice tags, long count, String what) {
        if (tags.isNone()) {
            return null;
        }
        MockRegion r = region(tags, what);
        if (tags.bytes() != count) {
            throw new OpFailure(what + " hold " + tags.bytes() + " bytes, one per value needs " + count);
        }
        return r;
    }

    private Step send(Op.Send s) {
        MockPort port = port(s.port());
        Floats values = floats(s.values(), "values", -1);
        MockRegion tags = tags(s.tags(), values.length(), "tags");
        int tagAt = (int) s.tags().offset();
        long from = s.values().offset();
        long to = from + s.values().bytes();
        boolean lend = s.values().bytes() > CARRY_BYTES;
        LinkShaping shaping = card.shaping;
        double beta = shaping == null || shaping.linkBytesPerSecond() <= 0 ? 0 : 1 / shaping.linkBytesPerSecond();
        return () -> {
            MockLink link = port.out;
            MockLink.Message m = link.take(values.length(), tags != null);
            ByteBuffer tagBytes = tags == null ? null : tags.heapBytes();
            byte[] tagArray = tagBytes == null ? null : tagBytes.array();
            int tagBase = tagBytes == null ? 0 : tagBytes.arrayOffset() + tagAt;
            if (lend) {
                // no copy here: the message reads the card's memory until its receiver takes it or the card
                // changes it; the receiver's copy is the only one
                long use = m.lend(values.array(), values.at(), tagArray, tagBase);
                card.lent(m, use, values.region(), from, to, tags, tagAt, tagAt + values.length());
            } else {
                m.carry(values.array(), values.at(), tagArray, tagBase);
            }
            long now = shaping == null ? 0 : System.nanoTime();
            m.doneNanos = link.book(now, m.bytes(), beta);
            m.hops = 1;
            link.put(m);
        };
    }

    /** Checks a message that came in: its size must be what the op expects. */
    private MockLink.Message arrived(MockPort port, MockLink.Message m, long bytes, String what) {
        if (m.bytes() != bytes) {
            long got = m.bytes();
            port.in.recycle(m);
            throw new OpFailure("the message on port " + port.info.port() + " has " + got + " bytes, the " + what
                    + " expects " + bytes);
        }
        port.receivedBytes += bytes;
        port.receivedMessages++;
        return m;
    }

    private WaitingStep receive(Op.Receive r) {
        MockPort port = port(r.port());
        Floats values = floats(r.values(), "values", -1);
        MockRegion tags = tags(r.tags(), values.length(), "tags");
        int tagAt = (int) r.tags().offset();
        long bytes = (long) values.length() * Float.BYTES + (tags == null ? 0 : values.length());
        Range[] written = ranges(new Slice[] {r.values(), r.tags()});
        Combine combine = r.combine();
        LinkShaping shaping = card.shaping;
        double gamma = shaping == null || shaping.reduceBytesPerSecond() <= 0 ? 0 : 1 / shaping.reduceBytesPerSecond();
        return () -> {
            MockLink.Message in = port.in.poll();
            if (in == null) {
                return port.in;
            }
            MockLink.Message m = arrived(port, in, bytes, "op");
            if (shaping != null) {
                Waits.until(m.doneNanos + (long) (m.hops * shaping.linkLatencySeconds() * 1e9));
            }
            try {
                card.keepLent(written);
                byte[] accTags = tags == null ? null : tags.heapBytes().array();
                int accTagAt = tags == null ? 0 : tags.heapBytes().arrayOffset() + tagAt;
                if (m.lent()) {
                    synchronized (m) {
                        // the sender's keep() waits for this, or has copied first
                        CardOps.combine(combine, values.array(), values.at(), accTags, accTagAt, m.source, m.sourceAt,
                                m.tagSource, m.tagSourceAt, values.length());
                        m.consumed();
                    }
                } else {
                    // a copy of its own: nobody else touches it
                    CardOps.combine(combine, values.array(), values.at(), accTags, accTagAt, m.source, m.sourceAt,
                            m.tagSource, m.tagSourceAt, values.length());
                }
                if (gamma > 0 && combine != Combine.COPY) {
                    long start = Math.max(System.nanoTime(), card.reduceBusyUntilNanos);
                    card.reduceBusyUntilNanos = start + (long) (values.length() * (long) Float.BYTES * gamma * 1e9);
                    Waits.until(card.reduceBusyUntilNanos);
                }
            } finally {
                port.in.recycle(m);
            }
            return null;
        };
    }

    private WaitingStep forward(Op.Forward f) {
        MockPort from = port(f.fromPort());
        MockPort to = port(f.toPort());
        LinkShaping shaping = card.shaping;
        double beta = shaping == null || shaping.linkBytesPerSecond() <= 0 ? 0 : 1 / shaping.linkBytesPerSecond();
        return () -> {
            MockLink.Message in = from.in.poll();
            if (in == null) {
                return from.in;
            }
            MockLink.Message m = arrived(from, in, f.bytes(), "forward");
            if (beta > 0) {
                // cut-through: the next link starts carrying the message as soon as its first bytes are here
                long start = m.doneNanos - (long) (m.bytes() * beta * 1e9);
                m.doneNanos = Math.max(m.doneNanos, to.out.book(start, m.bytes(), beta));
            }
            m.hops++;
            to.out.put(m);
            return null;
        };
    }

    private Step reduce(Op.Reduce r) {
        Floats into = floats(r.into(), "into", -1);
        Floats from = floats(r.from(), "from", into.length());
        MockRegion intoTags = tags(r.intoTags(), into.length(), "into tags");
        MockRegion fromTags = tags(r.fromTags(), into.length(), "from tags");
        if ((intoTags == null) != (fromTags == null)) {
            throw new OpFailure("origin tags are given for both operands or for neither");
        }
        int intoTagAt = (int) r.intoTags().offset();
        int fromTagAt = (int) r.fromTags().offset();
        return () -> {
            byte[] it = intoTags == null ? null : intoTags.heapBytes().array();
            byte[] ft = fromTags == null ? null : fromTags.heapBytes().array();
            CardOps.combine(r.combine(), into.array(), into.at(), it, it == null ? 0 : intoTags.heapBytes().arrayOffset() + intoTagAt,
                    from.array(), from.at(), ft, ft == null ? 0 : fromTags.heapBytes().arrayOffset() + fromTagAt,
                    into.length());
        };
    }

    private Step tagOrigins(Op.TagOrigins t) {
        Floats values = floats(t.values(), "values", -1);
        MockRegion tags = tags(t.tags(), values.length(), "tags");
        if (tags == null) {
            throw new OpFailure("tags are missing");
        }
        int tagAt = (int) t.tags().offset();
        return () -> {
            ByteBuffer tg = tags.heapBytes();
            CardOps.tagOrigins(t.combine(), values.array(), values.at(), tg.array(), tg.arrayOffset() + tagAt,
                    values.length(), t.card());
        };
    }

    private Step divide(Op.Divide d) {
        Floats values = floats(d.values(), "values", -1);
        float divisor = d.divisor();
        return () -> CardOps.divide(values.array(), values.at(), values.length(), divisor);
    }
}
