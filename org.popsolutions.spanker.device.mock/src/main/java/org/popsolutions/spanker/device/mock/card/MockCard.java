package org.popsolutions.spanker.device.mock.card;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardIdentity;
import org.popsolutions.spanker.api.card.CardMemory;
import org.popsolutions.spanker.api.card.CardOpException;
import org.popsolutions.spanker.api.card.CardTelemetry;
import org.popsolutions.spanker.api.card.LinkShaping;
import org.popsolutions.spanker.api.card.OpCode;
import org.popsolutions.spanker.api.card.OutOfCardMemoryException;
import org.popsolutions.spanker.api.card.PortStatus;
import org.popsolutions.spanker.api.card.PortTraffic;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.ProgramCompletion;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.SailDevice;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.MatVec;
import org.popsolutions.spanker.ggml.kernel.PackedWeights;
import org.popsolutions.spanker.ggml.kernel.RowExecutor;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * One in-process card: its DDR (weights in direct buffers off the heap, float32 activations and KV caches on it;
 * capacity enforced), a work queue (run by its group's {@link CardWorkers}, plus row workers for the products),
 * its ports, and the host's ggml kernels as its compute units. This is the only place a mock card computes.
 */
public final class MockCard implements SailCard, SailDevice {
    /** The mock speaks the same protocol revision as the SPI it implements. */
    static final int PROTOCOL_VERSION = 1;
    static final String FIRMWARE = "mock-1";

    private final CardIdentity identity;
    private final Card card;
    private final TopologyKind cabling;
    private final long capacity;
    private final Map<Long, MockRegion> regions = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);
    /** Recent host-link targets by handle (a freed one is never taken: its {@code freed} flag is checked). */
    private final MockRegion[] hostTargets = new MockRegion[64];
    private long used;
    final MockPort[] ports;
    /** The rates of the group using the card now (null: unshaped); set when a group claims it. */
    volatile LinkShaping shaping;
    final long receiveTimeoutNanos;
    volatile RowExecutor rows;
    volatile MatVec matVec;
    private final CardWorkers workers;
    private final LinkEventSink events;
    /** Programs submitted and not started, in order; guarded by the workers' lock, as are the next three. */
    final ArrayDeque<Activation> pending = new ArrayDeque<>();
    CardWorkers.State state = CardWorkers.State.IDLE;
    boolean wakeRequested;
    long deadline;
    /** When the card was last queued for a thread (the workers' count; guarded by their lock): ties go first come. */
    long queuedSeq;
    /** The program being run; touched only by the thread running the card. */
    private volatile Activation active;
    private volatile boolean closed;
    /**
     * Messages this card sent without copying: they read its memory in place until their receiver takes them. A
     * change to a range one of them reads first gives it a copy of its own ({@link #keepLent}).
     */
    private final ArrayList<Lent> lent = new ArrayList<>();
    private volatile int lentCount;
    /** Programs compiled against this card's buffers; touched only by the thread running the card. */
    private final Map<Program, MockProgram> compiled = new IdentityHashMap<>();
    private final AtomicLong hostWriteBytes = new AtomicLong();
    private final AtomicLong hostWrites = new AtomicLong();
    private final AtomicLong hostReadBytes = new AtomicLong();
    private final AtomicLong hostReads = new AtomicLong();
    private volatile long programs;
    private volatile long opsRun;
    private volatile long busyNanos;
    /** When the card's reduce unit is free again (shaped runs; card thread only). */
    long reduceBusyUntilNanos;

    MockCard(Card card, TopologyKind cabling, String provider, MockPort[] ports, LinkShaping shaping, int threads,
            long receiveTimeoutNanos, LinkEventSink events, CardWorkers workers) {
        this.workers = workers;
        this.card = card;
        this.cabling = cabling;
        this.capacity = card.memoryBytes();
        this.ports = ports;
        this.shaping = shaping;
        this.receiveTimeoutNanos = receiveTimeoutNanos;
        this.events = events;
        Set<Integer> types = EnumSet.allOf(GgmlType.class).stream()
                .filter(t -> t.computable() && QuantFormats.find(t).isPresent() && Kernels.supports(t))
                .map(GgmlType::id).collect(Collectors.toSet());
        List<org.popsolutions.spanker.api.card.LinkPort> portInfo = new ArrayList<>();
        for (MockPort p : ports) {
            portInfo.add(p.info);
        }
        this.identity = new CardIdentity(card.index(), card.name(), provider, FIRMWARE, PROTOCOL_VERSION,
                card.memoryBytes(), types, EnumSet.allOf(OpCode.class), portInfo);
        this.rows = new RowExecutor(threads);
        this.matVec = new MatVec(Kernels.best(), rows);
    }

    @Override
    public CardIdentity identity() {
        return identity;
    }

    int index() {
        return identity.index();
    }

    /** As the topology sees the card: the same object the SPI drives, so both always tell the same facts. */
    @Override
    public Card card() {
        return card;
    }

    @Override
    public TopologyKind cabling() {
        return cabling;
    }

    /** The links leaving the card, in port order, each in its state now. */
    @Override
    public List<Link> outgoingLinks() {
        List<Link> links = new ArrayList<>(ports.length);
        for (MockPort p : ports) {
            links.add(new Link(index(), p.info.neighbourCard(), p.out.state(), p.info.bandwidthBytesPerSecond(),
                    p.info.latencySeconds()));
        }
        return links;
    }

    /** A group claims the card: its shaping and its threads per card from now on. */
    void claimedWith(LinkShaping groupShaping, int threads) {
        shaping = groupShaping;
        if (threads != rows.threads()) {
            RowExecutor old = rows;
            rows = new RowExecutor(threads);
            matVec = new MatVec(Kernels.best(), rows);
            old.close();
        }
    }

    /**
     * The group that claimed the card let it go: what it queued fails, every buffer is freed, and the card is
     * ready for the next group (its ports keep their state).
     */
    void release() {
        for (Activation a : workers.drain(this)) {
            a.fail(new DeviceException("card " + index() + " was released by its group"));
        }
        Activation running = active;
        if (running != null) {
            running.fail(new DeviceException("card " + index() + " was released by its group"));
        }
        synchronized (this) {
            regions.values().forEach(r -> r.freed = true);
            regions.clear();
            used = 0;
        }
        synchronized (lent) {
            lent.clear();
            lentCount = 0;
        }
    }

    @Override
    public synchronized CardBuffer allocate(long bytes, String purpose) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes");
        }
        if (bytes > capacity - used) {
            dropPacks();
        }
        if (bytes > capacity - used) {
            throw new OutOfCardMemoryException(index(), purpose, bytes, capacity - used, capacity);
        }
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new DeviceException("a mock card keeps each buffer in one Java buffer (up to 2 GiB); " + purpose
                    + " asks for " + bytes + " bytes: split it");
        }
        long handle = nextHandle.getAndIncrement();
        // the region takes memory at its first use, in the form that use needs (see MockRegion)
        MockRegion region = new MockRegion(handle, (int) bytes, purpose);
        regions.put(handle, region);
        used += bytes;
        return new CardBuffer(index(), handle, bytes, purpose);
    }

    @Override
    public synchronized void free(CardBuffer buffer) {
        MockRegion region = buffer.card() == index() ? regions.remove(buffer.handle()) : null;
        if (region == null) {
            throw new IllegalArgumentException("buffer " + buffer.handle() + " (" + buffer.purpose()
                    + ") is not live on card " + index());
        }
        keepLent(region, 0, region.bytes);
        region.freed = true;
        used -= region.bytes;
        for (MockRegion.Packed p : region.packed()) {
            used -= p.weights().packedBytes();
        }
        region.packed().clear();
        dropKeptKvRows(region);
        for (MockRegion r : regions.values()) {
            for (Iterator<KeptKvRows> it = r.keptKvRows().iterator(); it.hasNext();) {
                KeptKvRows kept = it.next();
                if (kept.values == region) {
                    used -= kept.bytes;
                    kept.dropped = true;
                    it.remove();
                }
            }
        }
    }

    /**
     * The kept copy of an attention op's kv heads' cache rows for the key cache at {@code keySlice} of {@code keys}
     * (and the value cache at {@code valueOffset} of {@code values}), of {@code rows} rows: the one made before, or a
     * new one, its bytes counted in the card's memory. Null when the card's free memory or the heap cannot take it
     * (the op then copies the rows it reads at every step, as a card that keeps none).
     */
    synchronized KeptKvRows keptKvRows(MockRegion keys, Slice keySlice, MockRegion values, long valueOffset,
            int kvHeads, int headDimension, int rows) {
        if (!MockProgram.KEEP_KV_ROWS || keys.freed || values.freed) {
            return null;
        }
        List<KeptKvRows> held = keys.keptKvRows();
        for (int i = 0; i < held.size(); i++) {
            KeptKvRows kept = held.get(i);
            if (kept.matches(keySlice.offset(), keySlice.bytes(), values, valueOffset, kvHeads, headDimension, rows)) {
                return kept;
            }
        }
        long bytes = KeptKvRows.bytesFor(kvHeads, headDimension, rows);
        if (bytes > capacity - used || !heapHolds(bytes)) {
            // as a packed copy that does not fit: nothing said (a tool's output stays its own), the card's memory shows it
            return null;
        }
        KeptKvRows made = new KeptKvRows(keySlice.offset(), keySlice.bytes(), values, valueOffset, kvHeads,
                headDimension, rows);
        used += made.bytes;
        held.add(made);
        return made;
    }

    private void dropKeptKvRows(MockRegion region) {
        for (KeptKvRows kept : region.keptKvRows()) {
            used -= kept.bytes;
            kept.dropped = true;
        }
        region.keptKvRows().clear();
    }

    /** Whether cards repack weights for the portable kernels; {@code -Dspanker.mock.packWeights=false} turns it off. */
    static final boolean PACK_WEIGHTS = !"false".equals(System.getProperty("spanker.mock.packWeights"));

    /**
     * Whether a packed copy of about {@code bytes} fits the heap: it is a Java array, while the weights themselves live
     * off the heap (a model larger than the heap runs on the ggml bytes instead of failing for want of heap). Packing
     * leaves half of the heap free for everything else (activations, caches, the next card's copies).
     */
    static boolean heapHolds(long bytes) {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory()) - bytes >= rt.maxMemory() / 2;
    }

    /**
     * The weights at {@code slice} of {@code region} ({@code ggml}, their bytes) repacked for the portable kernels:
     * made at their first product and kept while the buffer is unchanged, the copy counted in the card's memory
     * like a buffer. Null when the shape has no packed layout, or the copy does not fit the card's free memory or the
     * heap: the product then reads the ggml bytes, as on a card that does not pack.
     */
    synchronized PackedWeights packed(MockRegion region, Slice slice, GgmlType type, int rows, int cols,
            ByteBuffer ggml) {
        if (region.freed) {
            return null;
        }
        dropStalePacks(region);
        for (MockRegion.Packed p : region.packed()) {
            if (p.offset() == slice.offset() && p.bytes() == slice.bytes() && p.type() == type) {
                return p.weights();
            }
        }
        if (!PACK_WEIGHTS || !heapHolds(type.bytesFor((long) rows * cols))) {
            return null;
        }
        PackedWeights made = PackedWeights.pack(type, ggml, rows, cols).orElse(null);
        if (made == null || made.packedBytes() > capacity - used) {
            return null;
        }
        used += made.packedBytes();
        region.packed().add(new MockRegion.Packed(slice.offset(), slice.bytes(), type, region.version(), made));
        return made;
    }

    /**
     * Frees every packed copy and kept copy of cache rows: they are a cache, and a buffer asked for comes first. Their buffers count as changed,
     * so the products that read them ask again (and pack again only if there is room).
     */
    private void dropPacks() {
        for (MockRegion region : regions.values()) {
            dropKeptKvRows(region);
            if (!region.packed().isEmpty()) {
                for (MockRegion.Packed p : region.packed()) {
                    used -= p.weights().packedBytes();
                }
                region.packed().clear();
                region.changed();
            }
        }
    }

    /** Frees the packed copies of a buffer whose contents changed since they were made. */
    private synchronized void dropStalePacks(MockRegion region) {
        int version = region.version();
        for (Iterator<MockRegion.Packed> it = region.packed().iterator(); it.hasNext();) {
            MockRegion.Packed p = it.next();
            if (p.version() != version) {
                used -= p.weights().packedBytes();
                it.remove();
            }
        }
    }

    @Override
    public synchronized CardMemory memory() {
        return new CardMemory(capacity, used, regions.size());
    }

    /**
     * The live buffer with this handle, or null: from a small cache of recent host-link targets first (a decode step
     * writes and reads the same few buffers every token; looking them up in the map would box the handle each time).
     */
    private MockRegion live(long handle) {
        int slot = (int) (handle & (hostTargets.length - 1));
        MockRegion cached = hostTargets[slot];
        if (cached != null && cached.handle == handle && !cached.freed) {
            return cached;
        }
        MockRegion r = regions.get(handle);
        if (r != null) {
            hostTargets[slot] = r;
        }
        return r;
    }

    /** The live buffer with this handle, or an op failure naming it. */
    MockRegion region(long handle) {
        MockRegion r = regions.get(handle);
        if (r == null) {
            throw new OpFailure("buffer " + handle + " is not live on card " + index());
        }
        return r;
    }

    private MockRegion hostRegion(CardBuffer buffer, long offset, long length, String what) {
        MockRegion r = buffer.card() == index() ? live(buffer.handle()) : null;
        if (r == null) {
            throw new IllegalArgumentException("host-link " + what + ": buffer " + buffer.handle() + " ("
                    + buffer.purpose() + ") is not live on card " + index());
        }
        if (offset < 0 || offset + length > r.bytes) {
            throw new IllegalArgumentException("host-link " + what + " of " + length + " bytes at " + offset
                    + " falls outside " + r.purpose + " (" + r.bytes + " bytes) on card " + index());
        }
        return r;
    }

    @Override
    public void write(CardBuffer buffer, long offset, ByteBuffer source) {
        // a model's weights come as bytes: the JIT compiles the card's arithmetic while they load. Not at open: a
        // collective's cards (staged as floats) never run that arithmetic, and the warm-up's second of CPU would
        // compete with their first collectives for the cores
        JitWarmup.start();
        int length = source.remaining();
        MockRegion r = hostRegion(buffer, offset, length, "write");
        long start = System.nanoTime();
        keepLent(r, offset, offset + length);
        r.write(offset, source);
        written(r, start, length);
    }

    @Override
    public void read(CardBuffer buffer, long offset, ByteBuffer target) {
        int length = target.remaining();
        MockRegion r = hostRegion(buffer, offset, length, "read");
        long start = System.nanoTime();
        r.read(offset, target);
        read(start, length);
    }

    /** One copy from the host's floats into the card's (a float32 buffer is kept as floats here). */
    @Override
    public void writeFloats(CardBuffer buffer, long offset, float[] source, int from, int count) {
        Objects.checkFromIndexSize(from, count, source.length);
        long length = (long) count * Float.BYTES;
        MockRegion r = hostRegion(buffer, offset, length, "write");
        long start = System.nanoTime();
        keepLent(r, offset, offset + length);
        r.writeFloats(offset, source, from, count);
        written(r, start, length);
    }

    /** One copy from the card's floats into the host's. */
    @Override
    public void readFloats(CardBuffer buffer, long offset, float[] target, int from, int count) {
        Objects.checkFromIndexSize(from, count, target.length);
        long length = (long) count * Float.BYTES;
        MockRegion r = hostRegion(buffer, offset, length, "read");
        long start = System.nanoTime();
        r.readFloats(offset, target, from, count);
        read(start, length);
    }

    /** After a host-link write into {@code r}: its stale packed copies freed, the transfer counted and paced. */
    private void written(MockRegion r, long start, long length) {
        if (!r.packed().isEmpty()) {
            dropStalePacks(r);
        }
        hostWriteBytes.addAndGet(length);
        hostWrites.incrementAndGet();
        shapeHostLink(start, length);
    }

    /** After a host-link read: the transfer counted and paced. */
    private void read(long start, long length) {
        hostReadBytes.addAndGet(length);
        hostReads.incrementAndGet();
        shapeHostLink(start, length);
    }

    private void shapeHostLink(long start, long bytes) {
        if (shaping == null) {
            return;
        }
        double seconds = shaping.hostLinkLatencySeconds()
                + (shaping.hostLinkBytesPerSecond() > 0 ? bytes / shaping.hostLinkBytesPerSecond() : 0);
        if (seconds > 0) {
            Waits.until(start + (long) (seconds * 1e9));
        }
    }

    @Override
    public CompletableFuture<ProgramCompletion> submit(Program program) {
        Submitted submitted = new Submitted(program);
        start(submitted);
        return submitted.done;
    }

    /** Queues an armed activation (a new submission, or a prepared job's run); a closed card fails it at once. */
    void start(Activation activation) {
        if (closed || !workers.submit(this, activation, activation.light(shaping != null))) {
            activation.fail(closedFailure());
        }
    }

    /**
     * Queues armed activations on cards of one group as one job ({@code activations[c]} on {@code cards[c]}, null for
     * none): together, so the group's workers run them as one; a closed card fails its own at once.
     */
    static void startAll(MockCard[] cards, Activation[] activations, CardWorkers workers) {
        boolean light = true;
        Activation[] queued = activations;
        for (int c = 0; c < cards.length; c++) {
            Activation a = activations[c];
            if (a == null) {
                continue;
            }
            if (cards[c].closed) {
                a.fail(cards[c].closedFailure());
                if (queued == activations) {
                    queued = activations.clone();
                }
                queued[c] = null;
                continue;
            }
            light &= a.light(cards[c].shaping != null);
        }
        if (!workers.submitAll(cards, queued, light)) {
            for (int c = 0; c < cards.length; c++) {
                if (queued[c] != null) {
                    queued[c].fail(cards[c].closedFailure());
                }
            }
        }
    }

    /**
     * How much of its job waits on this queued card's next op ({@link Activation#priority}); called under the workers'
     * lock while no thread runs the card.
     */
    long priority() {
        Activation a = active;
        if (a == null) {
            a = pending.peek();
        }
        return a == null ? 0 : a.priority();
    }

    /**
     * {@code program} compiled for a job prepared ahead ({@link MockPreparedJob}), on the preparing thread: its first
     * run then does not compile it (a prompt pass's program has thousands of ops). Compiling reads which buffers the
     * program names, not their contents, so it may run while the host writes the weights. Null when it does not
     * compile: its run compiles it again and reports the failure at the op, as without preparing.
     */
    MockProgram compileAhead(Program program) {
        try {
            return new MockProgram(this, program);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The workers that run this card's programs (its group's). */
    CardWorkers workers() {
        return workers;
    }

    private DeviceException closedFailure() {
        return new DeviceException("card " + index() + " is closed");
    }

    /**
     * A submitted program, how far it has run, and how its end is told: through a future made for it
     * ({@link Submitted}), or to a prepared job that re-arms the same activation for every run (nothing allocated).
     */
    abstract static class Activation {
        final Program program;
        MockProgram compiled;
        /** {@code compiled} was compiled ahead ({@link #compileAhead}) and not yet checked against freed buffers. */
        boolean compiledAhead;
        int at;
        boolean started;
        long start;
        /** Since when its current op waits for a message (valid while {@code waiting}). */
        boolean waiting;
        long waitingSince;

        /** The bytes it moves through link ops and folds (−1: it computes), which says whether it is light. */
        private final long linkBytes;
        /** Per op, the heaviest chain of its job from that op on ({@link CriticalPath}); null when not known. */
        long[] ranks;

        Activation(Program program) {
            this.program = program;
            this.linkBytes = MockProgram.linkBytes(program);
        }

        boolean light(boolean shaped) {
            return MockProgram.isLight(linkBytes, shaped);
        }

        /** How much of its job waits on its next op: the workers run the card with the most first (0: not known). */
        long priority() {
            long[] r = ranks;
            return r != null && at < r.length ? r[at] : 0;
        }

        /** Ready to run from its first op again (its compiled program is kept). */
        void rearm() {
            at = 0;
            started = false;
            waiting = false;
        }

        /** The program ran to its end: {@code ops} ops on {@code card}, busy for {@code busyNanos}. */
        abstract void complete(int card, int ops, long busyNanos);

        /** The program failed, or was stopped from outside; the first end told stands. */
        abstract void fail(Throwable failure);

        /** Whether its end has been told. */
        abstract boolean ended();
    }

    /** A program given to {@link #submit}: its end completes the future the caller holds. */
    private static final class Submitted extends Activation {
        final CompletableFuture<ProgramCompletion> done = new CompletableFuture<>();

        Submitted(Program program) {
            super(program);
        }

        @Override
        void complete(int card, int ops, long busyNanos) {
            done.complete(new ProgramCompletion(card, ops, busyNanos));
        }

        @Override
        void fail(Throwable failure) {
            done.completeExceptionally(failure);
        }

        @Override
        boolean ended() {
            return done.isDone();
        }
    }

    /**
     * Runs the card's programs on the calling worker until none is left or the current one must wait for a
     * message; then the card gives the thread back and runs again when the message comes.
     */
    void runUntilWaiting() {
        while (true) {
            Activation a = active;
            if (a == null) {
                a = workers.next(this);
                if (a == null) {
                    return;
                }
                active = a;
            }
            if (advance(a)) {
                active = null;
            } else if (workers.park(this, a.waitingSince + receiveTimeoutNanos)) {
                return;
            }
        }
    }

    /** The op a failure is reported at: where the program stands, or the op of a run taken together that failed. */
    private static int failedOp(Activation a) {
        return a.compiled == null ? a.at : a.compiled.failedOp(a.at);
    }

    /** Runs the program's ops from where it stands: true when it has ended (completed or failed). */
    private boolean advance(Activation a) {
        Program program = a.program;
        if (!a.started) {
            a.started = true;
            a.start = System.nanoTime();
        }
        if (closed) {
            a.fail(closedFailure());
            return true;
        }
        try {
            MockProgram p = a.compiled;
            if (p != null && a.compiledAhead) {
                // a buffer it names may have been freed since it was prepared: then it compiles again, and fails there
                a.compiledAhead = false;
                if (!p.stillValid()) {
                    p = null;
                    a.compiled = null;
                }
            }
            if (p == null) {
                p = compiled.get(program);
                if (p == null || !p.stillValid()) {
                    if (compiled.size() > 256) {
                        compiled.clear();
                    }
                    p = new MockProgram(this, program);
                    compiled.put(program, p);
                }
                a.compiled = p;
            }
            while (a.at < p.length()) {
                if (a.ended()) {
                    // failed from outside (the card was closed or released): stop here
                    return true;
                }
                MockLink waitsOn = p.run(a.at);
                if (waitsOn != null) {
                    long now = System.nanoTime();
                    if (!a.waiting) {
                        a.waiting = true;
                        a.waitingSince = now;
                    } else if (now - a.waitingSince >= receiveTimeoutNanos) {
                        throw waitsOn.nothingArrived(receiveTimeoutNanos);
                    }
                    return false;
                }
                a.waiting = false;
                a.at++;
            }
            finish(a.start, a.at);
            a.complete(index(), a.at, System.nanoTime() - a.start);
        } catch (MockProgram.CompileFailure e) {
            finish(a.start, a.at);
            a.fail(new CardOpException(index(), program.label(), e.opIndex,
                    program.ops().get(e.opIndex).code(), e.getMessage()));
        } catch (OpFailure | DeviceException | IllegalArgumentException | IndexOutOfBoundsException e) {
            finish(a.start, a.at);
            int op = failedOp(a);
            a.fail(new CardOpException(index(), program.label(), op,
                    program.ops().get(op).code(), String.valueOf(e.getMessage())));
        } catch (RuntimeException | Error e) {
            finish(a.start, a.at);
            int op = failedOp(a);
            a.fail(new CardOpException(index(), program.label(), op,
                    program.ops().get(Math.min(op, program.ops().size() - 1)).code(), "internal failure: " + e));
        }
        return true;
    }

    /** Wakes the card: a message it may wait for has come, or a link it waits on changed state. */
    void wake() {
        workers.wake(this);
    }

    /** A message sent as a view of this card's memory: which ranges it reads, and which life of the message. */
    private record Lent(MockLink.Message message, long generation, MockRegion values, long from, long to,
            MockRegion tags, long tagFrom, long tagTo) {
        boolean reads(MockRegion region, long start, long end) {
            return values == region && start < to && from < end || tags == region && start < tagTo && tagFrom < end;
        }
    }

    /** Notes a message that reads bytes [from, to) of {@code values} (and of {@code tags}) in place. */
    void lent(MockLink.Message message, long generation, MockRegion values, long from, long to, MockRegion tags,
            long tagFrom, long tagTo) {
        synchronized (lent) {
            if (lent.size() >= 64) {
                lent.removeIf(l -> l.message.settled(l.generation));
            }
            lent.add(new Lent(message, generation, values, from, to, tags, tagFrom, tagTo));
            lentCount = lent.size();
        }
    }

    /** Bytes [from, to) of {@code region} are about to change: messages still reading them take a copy first. */
    void keepLent(MockRegion region, long from, long to) {
        if (lentCount == 0) {
            return;
        }
        synchronized (lent) {
            for (int i = lent.size() - 1; i >= 0; i--) {
                Lent l = lent.get(i);
                // settled asks without the message's lock; only a message that still reads these bytes is waited for
                if (l.message.settled(l.generation)) {
                    lent.remove(i);
                } else if (l.reads(region, from, to)) {
                    l.message.keep(l.generation);
                    lent.remove(i);
                }
            }
            lentCount = lent.size();
        }
    }

    /** As {@link #keepLent(MockRegion, long, long)} for each range an op writes. */
    void keepLent(MockProgram.Range[] written) {
        if (lentCount == 0) {
            return;
        }
        for (MockProgram.Range r : written) {
            keepLent(r.region(), r.from(), r.to());
        }
    }

    private void finish(long start, int ops) {
        // single writer (the card's thread); volatile so telemetry readers see the latest
        programs = programs + 1;
        opsRun = opsRun + ops;
        busyNanos = busyNanos + (System.nanoTime() - start);
    }

    @Override
    public List<PortStatus> ports() {
        List<PortStatus> status = new ArrayList<>(ports.length);
        for (MockPort p : ports) {
            status.add(new PortStatus(p.info.port(), p.out.state()));
        }
        return status;
    }

    @Override
    public void enablePort(int port, boolean enabled) {
        if (port < 0 || port >= ports.length) {
            throw new IllegalArgumentException("card " + index() + " has ports 0.." + (ports.length - 1) + ", not "
                    + port);
        }
        MockPort p = ports[port];
        if (enabled) {
            setCable(p, LinkState.TRAINING);
            // the mock's cable always trains
            setCable(p, LinkState.UP);
        } else {
            setCable(p, LinkState.DOWN);
        }
    }

    /** Both directions of the cable change together, and both ends say so. */
    private void setCable(MockPort p, LinkState state) {
        LinkState before = p.out.state();
        LinkState beforeIn = p.in.state();
        p.out.setState(state);
        p.in.setState(state);
        if (events != null) {
            if (before != state) {
                events.linkState(index(), p.info.port(), p.info.neighbourCard(), state, before);
            }
            if (beforeIn != state) {
                events.linkState(p.info.neighbourCard(), p.info.neighbourPort(), index(), state, beforeIn);
            }
        }
    }

    @Override
    public CardTelemetry telemetry() {
        List<PortTraffic> traffic = new ArrayList<>(ports.length);
        for (MockPort p : ports) {
            traffic.add(new PortTraffic(p.info.port(), p.out.sentBytes, p.out.sentMessages, p.receivedBytes,
                    p.receivedMessages));
        }
        return new CardTelemetry(hostWriteBytes.get(), hostWrites.get(), hostReadBytes.get(), hostReads.get(),
                programs, opsRun, busyNanos, traffic);
    }

    void close() {
        closed = true;
        for (Activation a : workers.drain(this)) {
            a.fail(closedFailure());
        }
        Activation running = active;
        if (running != null) {
            // its thread may be inside an op; it ends there, and this completion stands
            running.fail(closedFailure());
        }
        rows.close();
        synchronized (this) {
            regions.values().forEach(r -> r.freed = true);
            regions.clear();
            used = 0;
        }
    }

    @Override
    public String toString() {
        return "MockCard[" + identity.name() + "]";
    }
}
