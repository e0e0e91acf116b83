package org.popsolutions.spanker.scheduler.collective;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.NotImplementedException;
import org.popsolutions.spanker.api.ShapeMismatchException;
import org.popsolutions.spanker.api.TopologyMismatchException;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardGroup;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.CardIdentity;
import org.popsolutions.spanker.api.card.CardProvider;
import org.popsolutions.spanker.api.card.LinkShaping;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.collective.CardCollectives;
import org.popsolutions.spanker.api.collective.CollectiveEngine;
import org.popsolutions.spanker.api.collective.CollectiveOutcome;
import org.popsolutions.spanker.api.collective.CollectiveProgram;
import org.popsolutions.spanker.api.collective.CollectiveRequest;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveEstimate;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.Topology;

/**
 * Runs collectives card to card, with the algorithm asked for or the cheapest: each schedule becomes the cards' own
 * send/receive/forward/reduce ops ({@link CardPrograms}), run by the cards of a {@link CardProvider} through the
 * card runtime SPI. The scheduler owns no card threads and shapes no links: the cards do both.
 *
 * <p>{@link #run} stages host arrays on the cards over the host link, runs the programs, and reads the results back;
 * its elapsed time is the cards' programs only (host-link staging excluded), as nccl-tests time device buffers.
 */
@Component(service = {CollectiveEngine.class, CardCollectives.class})
public final class ScheduledCollectives implements CollectiveEngine, CardCollectives, AutoCloseable {
    private static final int SCHEDULE_CACHE_SIZE = 256;
    private static final int OPEN_GROUPS = 4;

    private final Map<ScheduleKey, Schedule> schedules = new ConcurrentHashMap<>();
    /** Card groups opened for host-array collectives, by topology and shaping; the least recent closes first. */
    private final Map<GroupKey, Staged> groups = new LinkedHashMap<>(8, 0.75f, true);
    /** The group the last host-array collective ran on, and the request's topology object and shaping it had. */
    private Topology lastTopology;
    private LinkShaping lastShaping;
    private Staged lastStaged;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile LinkModel linkModel;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile CardProvider cardProvider;

    public ScheduledCollectives() {
    }

    /** Outside a framework (tests, benchmarks): with a fixed link model and card provider. */
    public ScheduledCollectives(LinkModel linkModel, CardProvider cardProvider) {
        this.linkModel = linkModel;
        this.cardProvider = cardProvider;
    }

    @Deactivate
    void deactivate() {
        close();
    }

    /** Closes the card groups opened for host-array collectives. */
    @Override
    public synchronized void close() {
        groups.values().forEach(Staged::close);
        groups.clear();
    }

    @Override
    public synchronized CollectiveOutcome run(CollectiveRequest request) {
        Topology topology = request.topology();
        int n = BufferChecks.checkShapes(topology, request.buffers());
        int p = topology.cardCount();
        LinkModel model = linkModel;
        if (p == 0) {
            return new CollectiveOutcome(resolvedOrReference(request.algorithm()), List.of(), 0,
                    new CollectiveEstimate(request.kind(), resolvedOrReference(request.algorithm()), 0, 0, 0, 0, 0, 0, 0),
                    List.of());
        }
        Schedule schedule = schedule(request.kind(), request.algorithm(), topology.kind(), p, n, request.root(), model);
        requireLinksUp(schedule, topology);
        ReduceOp op = request.reduceOp();
        boolean reduces = request.kind() == CollectiveKind.ALL_REDUCE || request.kind() == CollectiveKind.REDUCE_SCATTER;
        boolean tagged = reduces && (op == ReduceOp.MAX || op == ReduceOp.MIN);
        double beta = 1 / model.flowControl().sustainedBytesPerSecond();
        double gamma = 1 / model.parameters().reduceBytesPerSecond();
        LinkShaping shaping = request.shaped() ? new LinkShaping(model.parameters().hopLatencySeconds(),
                model.flowControl().sustainedBytesPerSecond(), model.parameters().reduceBytesPerSecond(), 0, 0) : null;
        Staged staged = staged(topology, shaping);
        Staged.Run run = staged.prepare(schedule, op, reduces, tagged);
        long elapsed;
        List<float[]> results;
        try {
            elapsed = run.execute(request);
            results = run.results(request);
        } catch (RuntimeException e) {
            // a card failed half way: messages may be left on the links, so these cards are not used again
            groups.values().remove(staged);
            staged.close();
            throw e;
        }
        int bytesPerElement = Float.BYTES + (tagged ? 1 : 0);
        CollectiveEstimate predicted = run.predicted(topology.kind(), model.parameters().hopLatencySeconds(), beta,
                gamma, bytesPerElement);
        return new CollectiveOutcome(schedule.algorithm(), results, elapsed, predicted, run.traffic(),
                run.deviceNanos(), run.timeDilation());
    }

    @Override
    public CollectiveProgram allReduce(CardGroup group, ReduceOp op, CollectiveAlgorithm algorithm, List<Slice> data) {
        Topology topology = group.topology();
        int p = topology.cardCount();
        if (data.size() != p) {
            throw new TopologyMismatchException(p, data.size());
        }
        List<List<Op>> ops = new ArrayList<>();
        for (int c = 0; c < p; c++) {
            ops.add(new ArrayList<>());
        }
        if (p == 0) {
            return new CollectiveProgram(resolvedOrReference(algorithm), ops, List.of());
        }
        long n = data.get(0).floats();
        for (int c = 0; c < p; c++) {
            if (data.get(c).floats() != n || data.get(c).bytes() % Float.BYTES != 0) {
                throw new ShapeMismatchException(c, n, data.get(c).floats());
            }
        }
        Schedule schedule = schedule(CollectiveKind.ALL_REDUCE, algorithm, topology.kind(), p, (int) n, 0, linkModel);
        requireLinksUp(schedule, topology);
        boolean tagged = op == ReduceOp.MAX || op == ReduceOp.MIN;
        List<CardBuffer> scratch = new ArrayList<>();
        try {
            List<CardIdentity> ids = group.cards().stream().map(SailCard::identity).toList();
            List<Slice> tags = null;
            if (tagged) {
                tags = new ArrayList<>();
                for (int c = 0; c < p; c++) {
                    CardBuffer b = group.cards().get(c).allocate(n, "allreduce origin tags");
                    scratch.add(b);
                    tags.add(Slice.of(b));
                }
            }
            List<CardPrograms.Staging> staging = staging(group, schedule, tagged, scratch);
            CardPrograms.append(schedule, topology.kind(), ids, op, data, tags, staging, ops);
            if (op == ReduceOp.AVG) {
                for (int c = 0; c < p; c++) {
                    ops.get(c).add(new Op.Divide(data.get(c), p));
                }
            }
        } catch (RuntimeException e) {
            freeAll(group, scratch);
            throw e;
        }
        return new CollectiveProgram(schedule.algorithm(), ops, scratch);
    }

    /** Each card's staging area for the schedule, allocated on the card. */
    static List<CardPrograms.Staging> staging(CardGroup group, Schedule schedule, boolean tagged,
            List<CardBuffer> allocated) {
        int[] values = CardPrograms.stagingValues(schedule);
        List<CardPrograms.Staging> staging = new ArrayList<>();
        for (int c = 0; c < values.length; c++) {
            if (values[c] == 0) {
                staging.add(new CardPrograms.Staging(Slice.NONE, Slice.NONE));
                continue;
            }
            SailCard card = group.cards().get(c);
            CardBuffer v = card.allocate((long) values[c] * Float.BYTES, "collective staging");
            allocated.add(v);
            Slice t = Slice.NONE;
            if (tagged) {
                CardBuffer tb = card.allocate(values[c], "collective staging tags");
                allocated.add(tb);
                t = Slice.of(tb);
            }
            staging.add(new CardPrograms.Staging(Slice.of(v), t));
        }
        return staging;
    }

    static void freeAll(CardGroup group, List<CardBuffer> buffers) {
        for (CardBuffer b : buffers) {
            try {
                group.cards().get(b.card()).free(b);
            } catch (RuntimeException alreadyGone) {
                // the group closed under us; its memory went with it
            }
        }
    }

    private Staged staged(Topology topology, LinkShaping shaping) {
        Staged last = lastStaged;
        if (last != null && topology == lastTopology && java.util.Objects.equals(shaping, lastShaping)
                && last.isOpen()) {
            // the same request again (a benchmark, a decode): no deep hash of the topology
            return last;
        }
        Staged staged = stagedFor(topology, shaping);
        lastTopology = topology;
        lastShaping = shaping;
        lastStaged = staged;
        return staged;
    }

    private Staged stagedFor(Topology topology, LinkShaping shaping) {
        GroupKey key = new GroupKey(topology, shaping);
        Staged staged = groups.get(key);
        if (staged != null) {
            return staged;
        }
        CardProvider provider = cardProvider;
        if (provider == null) {
            throw new NotImplementedException("collectives run on cards, and no card provider is registered: install a"
                    + " device bundle (e.g. org.popsolutions.spanker.device.mock)");
        }
        // a card runs under one link shaping at a time, and a provider may hand the same cards to every group over
        // them: the group of the other shaping over these cards closes first
        groups.entrySet().removeIf(open -> {
            if (open.getKey().topology().equals(topology)) {
                open.getValue().close();
                return true;
            }
            return false;
        });
        if (groups.size() >= OPEN_GROUPS) {
            GroupKey eldest = groups.keySet().iterator().next();
            groups.remove(eldest).close();
        }
        staged = new Staged(provider.open(new CardGroupSpec(withStatedMemory(topology), shaping, 0)));
        groups.put(key, staged);
        return staged;
    }

    /**
     * The topology's cards, those that state no memory (0: a topology built only to describe cabling) given room
     * for any buffer, so that a collective over them can be staged.
     */
    private static Topology withStatedMemory(Topology topology) {
        List<Card> cards = topology.cards().stream()
                .map(c -> c.memoryBytes() > 0 ? c : new Card(c.index(), c.name(), c.provider(), Long.MAX_VALUE, c.timeDilation()))
                .toList();
        return new Topology(topology.kind(), cards, topology.links());
    }

    private record GroupKey(Topology topology, LinkShaping shaping) {
    }

    /**
     * The schedule for a request, built once per shape: a model decoding a token runs the same few small
     * allreduces over and over, and choosing AUTO alone builds and costs every algorithm's schedule.
     */
    Schedule schedule(CollectiveKind kind, CollectiveAlgorithm requested, TopologyKind cabling, int p, int n, int root,
            LinkModel model) {
        ScheduleKey key = new ScheduleKey(kind, requested, cabling, p, n, root,
                requested == CollectiveAlgorithm.AUTO ? model.parameters() : null);
        Schedule cached = schedules.get(key);
        if (cached != null) {
            return cached;
        }
        CollectiveAlgorithm algorithm = requested == CollectiveAlgorithm.AUTO
                ? model.rank(kind, cabling, p, (long) n * Float.BYTES).get(0).algorithm()
                : requested;
        Schedule schedule = Schedules.build(kind, algorithm, p, n, root);
        if (schedules.size() >= SCHEDULE_CACHE_SIZE) {
            schedules.clear();
        }
        schedules.put(key, schedule);
        return schedule;
    }

    /** What determines a schedule; AUTO's choice also depends on the link model's parameters. */
    private record ScheduleKey(CollectiveKind kind, CollectiveAlgorithm algorithm, TopologyKind cabling, int cards,
            int elements, int root, LinkParameters autoParameters) {
    }

    private static CollectiveAlgorithm resolvedOrReference(CollectiveAlgorithm algorithm) {
        return algorithm == CollectiveAlgorithm.AUTO ? CollectiveAlgorithm.REFERENCE : algorithm;
    }

    /** Fails before any data moves when a link on a needed route is missing or not UP. */
    private static void requireLinksUp(Schedule schedule, Topology topology) {
        int p = schedule.cards();
        Link[] links = new Link[p * p];
        for (Link link : topology.links()) {
            links[Routes.linkIndex(p, link.local(), link.remote())] = link;
        }
        boolean[] checked = new boolean[p * p];
        for (List<Transfer> step : schedule.steps()) {
            for (Transfer t : step) {
                int[] path = Routes.path(topology.kind(), p, t.source(), t.destination());
                for (int i = 0; i + 1 < path.length; i++) {
                    int index = Routes.linkIndex(p, path[i], path[i + 1]);
                    if (checked[index]) {
                        continue;
                    }
                    Link link = links[index];
                    if (link == null) {
                        throw new DeviceException("link " + path[i] + " -> " + path[i + 1] + " does not exist in the "
                                + topology.kind() + " topology; the " + schedule.algorithm().label() + " "
                                + schedule.kind().label() + " needs it");
                    }
                    if (!link.state().carriesData()) {
                        throw new DeviceException("link " + path[i] + " -> " + path[i + 1] + " is " + link.state()
                                + " (data passes only while UP); the " + schedule.algorithm().label() + " "
                                + schedule.kind().label() + " needs it");
                    }
                    checked[index] = true;
                }
            }
        }
    }
}
