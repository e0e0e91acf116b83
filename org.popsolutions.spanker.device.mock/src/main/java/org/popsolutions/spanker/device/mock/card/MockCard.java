package org.popsolutions.spanker.device.mock.card;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
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
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.MatVec;
import org.popsolutions.spanker.ggml.kernel.RowExecutor;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * One in-process card: its DDR (weights in direct buffers off the heap, float32 activations and KV caches on it;
 * capacity enforced), a work queue (one thread of its own, plus row
 * workers for the products), its ports, and the host's ggml kernels as its compute units. This is the only place
 * a mock card computes.
 */
public final class MockCard implements SailCard {
    /** The mock speaks the same protocol revision as the SPI it implements. */
    static final int PROTOCOL_VERSION = 1;
    static final String FIRMWARE = "mock-1";

    private final CardIdentity identity;
    private final long capacity;
    private final Map<Long, MockRegion> regions = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);
    private long used;
    final MockPort[] ports;
    final LinkShaping shaping;
    final long receiveTimeoutNanos;
    final RowExecutor rows;
    final MatVec matVec;
    private final ExecutorService queue;
    private final LinkEventSink events;
    /** Programs compiled against this card's buffers; touched only by the card's own thread. */
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

    MockCard(Card card, String provider, MockPort[] ports, LinkShaping shaping, int threads, long receiveTimeoutNanos,
            LinkEventSink events) {
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
        this.queue = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "spanker-mock-card-" + card.index());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public CardIdentity identity() {
        return identity;
    }

    int index() {
        return identity.index();
    }

    @Override
    public synchronized CardBuffer allocate(long bytes, String purpose) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes");
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
        region.freed = true;
        used -= region.bytes;
    }

    @Override
    public synchronized CardMemory memory() {
        return new CardMemory(capacity, used, regions.size());
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
        MockRegion r = buffer.card() == index() ? regions.get(buffer.handle()) : null;
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
        int length = source.remaining();
        MockRegion r = hostRegion(buffer, offset, length, "write");
        long start = System.nanoTime();
        r.write(offset, source);
        hostWriteBytes.addAndGet(length);
        hostWrites.incrementAndGet();
        shapeHostLink(start, length);
    }

    @Override
    public void read(CardBuffer buffer, long offset, ByteBuffer target) {
        int length = target.remaining();
        MockRegion r = hostRegion(buffer, offset, length, "read");
        long start = System.nanoTime();
        r.read(offset, target);
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
        CompletableFuture<ProgramCompletion> done = new CompletableFuture<>();
        try {
            queue.execute(() -> run(program, done));
        } catch (RejectedExecutionException e) {
            done.completeExceptionally(new DeviceException("card " + index() + " is closed"));
        }
        return done;
    }

    private void run(Program program, CompletableFuture<ProgramCompletion> done) {
        long start = System.nanoTime();
        int at = 0;
        try {
            MockProgram p = compiled.get(program);
            if (p == null || !p.stillValid()) {
                if (compiled.size() > 256) {
                    compiled.clear();
                }
                p = new MockProgram(this, program);
                compiled.put(program, p);
            }
            for (; at < p.steps.length; at++) {
                p.steps[at].run();
            }
            finish(start, at);
            done.complete(new ProgramCompletion(index(), at, System.nanoTime() - start));
        } catch (MockProgram.CompileFailure e) {
            finish(start, at);
            done.completeExceptionally(new CardOpException(index(), program.label(), e.opIndex,
                    program.ops().get(e.opIndex).code(), e.getMessage()));
        } catch (OpFailure | DeviceException | IllegalArgumentException | IndexOutOfBoundsException e) {
            finish(start, at);
            done.completeExceptionally(new CardOpException(index(), program.label(), at,
                    program.ops().get(at).code(), String.valueOf(e.getMessage())));
        } catch (RuntimeException | Error e) {
            finish(start, at);
            done.completeExceptionally(new CardOpException(index(), program.label(), at,
                    program.ops().get(Math.min(at, program.ops().size() - 1)).code(), "internal failure: " + e));
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
        queue.shutdownNow();
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
