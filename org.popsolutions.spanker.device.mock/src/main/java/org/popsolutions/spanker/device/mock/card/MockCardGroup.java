package org.popsolutions.spanker.device.mock.card;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.card.CardGroup;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.LinkPort;
import org.popsolutions.spanker.api.card.LinkShaping;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.Topology;

/**
 * Mock cards opened together: one {@link MockCard} per card of the topology, each directed link of the topology a
 * {@link MockLink}. Card c's ports are its outgoing links in the topology's order (a ring: downstream, then
 * upstream; a mesh: the other cards in order); a port carries the link out and the reverse link in.
 *
 * <p>A group either owns its cards (closing it stops them) or has claimed cards another group owns — the configured
 * cards, which are also the registered {@code SailDevice} services ({@link #claim}). Any number of claims share the
 * cards at once (a collective engine keeps its group open while a model runs on the same cards): their jobs
 * ({@link #submitAll}) run in one order on every card, and when the last claim closes every buffer on the cards is
 * freed.
 */
public final class MockCardGroup implements CardGroup {
    /** How long a receive waits for its message before it fails (never a hang). */
    public static final long RECEIVE_TIMEOUT_NANOS = 60_000_000_000L;

    private final Topology topology;
    private final List<SailCard> cards;
    private final List<MockLink> links;
    private final CardWorkers workers;
    /** For a claim: the group that owns the cards; null when this group owns them. */
    private final MockCardGroup owner;
    private boolean closed;
    /** An owner's open claims and the link shaping they share (guarded by the owner). */
    private int claims;
    private LinkShaping claimedShaping;
    /** An owner's job order: one group's {@link #submitAll} at a time, over every card. */
    private final Object jobs = new Object();

    public MockCardGroup(CardGroupSpec spec, String provider, LinkEventSink events) {
        this(spec, provider, events, RECEIVE_TIMEOUT_NANOS);
    }

    public MockCardGroup(CardGroupSpec spec, String provider, LinkEventSink events, long receiveTimeoutNanos) {
        this.topology = spec.topology();
        this.owner = null;
        this.links = new ArrayList<>();
        int n = topology.cardCount();
        MockLink[][] byPair = new MockLink[n][n];
        List<List<Link>> outgoing = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            outgoing.add(new ArrayList<>());
        }
        for (Link link : topology.links()) {
            if (byPair[link.local()][link.remote()] != null) {
                throw new InvalidConfigurationException("the topology lists link " + link.local() + " -> "
                        + link.remote() + " twice");
            }
            MockLink mock = new MockLink(link.local(), link.remote(), link.state());
            byPair[link.local()][link.remote()] = mock;
            links.add(mock);
            outgoing.get(link.local()).add(link);
        }
        int threads = threadsPerCard(spec, n);
        List<SailCard> opened = new ArrayList<>(n);
        this.workers = new CardWorkers("spanker-mock-cards", workerThreads(spec.shaping(), n), receiveTimeoutNanos);
        try {
            for (int c = 0; c < n; c++) {
                List<Link> out = outgoing.get(c);
                MockPort[] ports = new MockPort[out.size()];
                for (int p = 0; p < ports.length; p++) {
                    Link link = out.get(p);
                    MockLink back = byPair[link.remote()][c];
                    if (back == null) {
                        throw new InvalidConfigurationException("link " + c + " -> " + link.remote()
                                + " has no way back (" + link.remote() + " -> " + c + "); a cable carries both"
                                + " directions");
                    }
                    int neighbourPort = outgoing.get(link.remote()).indexOf(
                            topology.link(link.remote(), c).orElseThrow());
                    ports[p] = new MockPort(new LinkPort(p, link.remote(), neighbourPort, link.bandwidthBytesPerSecond(),
                            link.latencySeconds()), byPair[c][link.remote()], back);
                }
                opened.add(new MockCard(topology.cards().get(c), topology.kind(), provider, ports, spec.shaping(), threads,
                        receiveTimeoutNanos, events, workers));
            }
            for (MockLink link : links) {
                link.receiver = (MockCard) opened.get(link.to);
            }
        } catch (RuntimeException e) {
            opened.forEach(card -> ((MockCard) card).close());
            workers.close();
            throw e;
        }
        this.cards = List.copyOf(opened);
    }

    private MockCardGroup(MockCardGroup owner) {
        this.topology = owner.currentTopology();
        this.cards = owner.cards;
        this.links = owner.links;
        this.workers = owner.workers;
        this.owner = owner;
    }

    /** Shaped: a thread per card (each is held to its own deadlines); unshaped: no more threads than cores. */
    private static int workerThreads(LinkShaping shaping, int cards) {
        return shaping != null ? cards : Math.min(cards, Math.max(2, Runtime.getRuntime().availableProcessors()));
    }

    private static int threadsPerCard(CardGroupSpec spec, int cards) {
        return spec.hostThreadsPerCard() > 0 ? spec.hostThreadsPerCard()
                : Math.max(1, Runtime.getRuntime().availableProcessors() / Math.max(1, cards));
    }

    /** The cards and links as they are now: each card's facts and its links in their current states. */
    public Topology currentTopology() {
        List<Card> now = new ArrayList<>(cards.size());
        List<Link> out = new ArrayList<>();
        for (SailCard c : cards) {
            MockCard card = (MockCard) c;
            now.add(card.card());
            out.addAll(card.outgoingLinks());
        }
        return new Topology(topology.kind(), now, out);
    }

    /**
     * A group over these same cards, for a user that asked for exactly them. The first claim gives the cards its
     * shaping and threads; later ones share them as they are, and must want the same shaping (a card runs under one
     * link shaping at a time). Closing the last claim frees every buffer on the cards instead of stopping them.
     *
     * @throws DeviceException when the cards are claimed under another shaping now
     */
    public MockCardGroup claim(CardGroupSpec spec) {
        synchronized (this) {
            if (claims > 0 && !java.util.Objects.equals(spec.shaping(), claimedShaping)) {
                throw new DeviceException("the configured mock cards are in use by another group "
                        + shapingLabel(claimedShaping) + "; a group " + shapingLabel(spec.shaping())
                        + " cannot share them until that one closes (a card runs under one link shaping at a time)");
            }
            if (claims == 0) {
                int threads = threadsPerCard(spec, cards.size());
                for (SailCard c : cards) {
                    ((MockCard) c).claimedWith(spec.shaping(), threads);
                }
                workers.parallelism(workerThreads(spec.shaping(), cards.size()));
                claimedShaping = spec.shaping();
            }
            claims++;
        }
        return new MockCardGroup(this);
    }

    private static String shapingLabel(LinkShaping shaping) {
        return shaping == null ? "without link shaping" : "shaped to the link model";
    }

    /** Open claims on these cards now (an owner's count). */
    public synchronized int claims() {
        return claims;
    }

    private void unclaim() {
        synchronized (this) {
            if (--claims > 0) {
                return;
            }
            claimedShaping = null;
        }
        for (SailCard card : cards) {
            ((MockCard) card).release();
        }
        links.forEach(MockLink::drain);
    }

    /** One job at a time over the shared cards, so every card queues the jobs of all claims in the same order. */
    @Override
    public List<java.util.concurrent.CompletableFuture<org.popsolutions.spanker.api.card.ProgramCompletion>> submitAll(
            List<org.popsolutions.spanker.api.card.Program> programs) {
        synchronized ((owner != null ? owner : this).jobs) {
            return CardGroup.super.submitAll(programs);
        }
    }

    /**
     * Bounds the wait of {@link #prepare} for the JIT warm-up: a warm-up slowed down by a busy machine delays a load
     * by at most this much (the rest then overlaps the first prompt, as without waiting).
     */
    static final long WARMUP_WAIT_MILLIS = 30_000;

    /**
     * The job's runs queue in the same order as every {@link #submitAll} over these cards. Its programs are compiled
     * now. The job is ready to run at the speed of compiled code: when the {@link JitWarmup} of the card's arithmetic
     * runs (a model's weights are being written), preparing waits for it to end (at most {@value #WARMUP_WAIT_MILLIS}
     * ms). A model's load prepares its jobs beside the weights' transfer, so the load's time shows what is left of the
     * warm-up then, instead of the first prompt pass and decode steps sharing the cores with the warm-up and its
     * compilers. Every job waits, however small: a small model's load (the tiny preset's, 30 MiB) ends before the
     * warm-up's second of CPU, which then ran beside its whole short generation (a third of its tokens/s in 32-token
     * runs), and the load's own decode steps (the runtime's warm-up) reach compiled speed only once the warm-up has
     * pushed the arithmetic past the JIT's thresholds (without it they stayed at 25-30 ms a step for 3-5 ms compiled).
     */
    @Override
    public org.popsolutions.spanker.api.card.PreparedJob prepare(List<org.popsolutions.spanker.api.card.Program> programs) {
        MockPreparedJob job = new MockPreparedJob((owner != null ? owner : this).jobs, cards, programs);
        JitWarmup.awaitEnd(WARMUP_WAIT_MILLIS);
        return job;
    }

    @Override
    public Topology topology() {
        return topology;
    }

    @Override
    public List<SailCard> cards() {
        return cards;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (owner != null) {
            owner.unclaim();
            return;
        }
        for (SailCard card : cards) {
            ((MockCard) card).close();
        }
        workers.close();
        links.forEach(MockLink::drain);
    }
}
