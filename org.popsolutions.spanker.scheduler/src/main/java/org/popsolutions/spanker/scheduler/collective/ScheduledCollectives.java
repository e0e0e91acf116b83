package org.popsolutions.spanker.scheduler.collective;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.collective.CollectiveEngine;
import org.popsolutions.spanker.api.collective.CollectiveOutcome;
import org.popsolutions.spanker.api.collective.CollectiveRequest;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveEstimate;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.Topology;

/** Runs collectives card to card over the topology's links, with the algorithm asked for or the cheapest. */
@Component
public final class ScheduledCollectives implements CollectiveEngine, AutoCloseable {
    private static final int SCHEDULE_CACHE_SIZE = 256;

    private final ExecutorService cards = Executors.newCachedThreadPool(new CardThreads());
    private final Map<ScheduleKey, Schedule> schedules = new ConcurrentHashMap<>();

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile LinkModel linkModel;

    public ScheduledCollectives() {
    }

    /** Outside a framework (tests, benchmarks): with a fixed link model. */
    public ScheduledCollectives(LinkModel linkModel) {
        this.linkModel = linkModel;
    }

    @Deactivate
    void deactivate() {
        close();
    }

    /** Stops the mock cards' threads. */
    @Override
    public void close() {
        cards.shutdownNow();
    }

    @Override
    public CollectiveOutcome run(CollectiveRequest request) {
        Topology topology = request.topology();
        int n = BufferChecks.checkShapes(topology, request.buffers());
        int p = topology.cardCount();
        LinkModel model = linkModel;
        if (p == 0) {
            return new CollectiveOutcome(resolvedOrReference(request.algorithm()), List.of(), 0,
                    new CollectiveEstimate(request.kind(), resolvedOrReference(request.algorithm()), 0, 0, 0, 0, 0, 0, 0),
                    List.of());
        }
        Schedule schedule = schedule(request, topology.kind(), p, n, model);
        CollectiveAlgorithm algorithm = schedule.algorithm();
        requireLinksUp(schedule, topology);

        ReduceOp op = request.reduceOp();
        boolean reduces = request.kind() == CollectiveKind.ALL_REDUCE || request.kind() == CollectiveKind.REDUCE_SCATTER;
        float[][] work = workArrays(request, schedule);
        byte[][] origins = null;
        if (reduces && Combine.tracksOrigin(op)) {
            origins = new byte[p][];
            for (int card = 0; card < p; card++) {
                origins[card] = Combine.prepareOrigins(op, card, work[card]);
            }
        }
        double beta = 1 / model.flowControl().sustainedBytesPerSecond();
        double gamma = 1 / model.parameters().reduceBytesPerSecond();
        ScheduleRunner.Shaping shaping = request.shaped()
                ? new ScheduleRunner.Shaping(model.parameters().hopLatencySeconds(), beta, gamma) : null;
        ScheduleRunner runner = new ScheduleRunner(schedule, topology.kind(), op, work, origins, shaping, cards);
        long elapsed = runner.run();

        List<float[]> results = results(request, schedule, work);
        int bytesPerElement = Float.BYTES + (origins == null ? 0 : 1);
        CollectiveEstimate predicted = ScheduleCost.evaluate(schedule, topology.kind(),
                model.parameters().hopLatencySeconds(), beta, gamma, bytesPerElement);
        return new CollectiveOutcome(algorithm, results, elapsed, predicted, runner.traffic());
    }

    /**
     * The schedule for a request, built once per shape: a model decoding a token runs the same few small
     * allreduces over and over, and choosing AUTO alone builds and costs every algorithm's schedule.
     */
    private Schedule schedule(CollectiveRequest request, TopologyKind cabling, int p, int n, LinkModel model) {
        ScheduleKey key = new ScheduleKey(request.kind(), request.algorithm(), cabling, p, n, request.root(),
                request.algorithm() == CollectiveAlgorithm.AUTO ? model.parameters() : null);
        Schedule cached = schedules.get(key);
        if (cached != null) {
            return cached;
        }
        CollectiveAlgorithm algorithm = request.algorithm() == CollectiveAlgorithm.AUTO
                ? model.rank(request.kind(), cabling, p, (long) n * Float.BYTES).get(0).algorithm()
                : request.algorithm();
        Schedule schedule = Schedules.build(request.kind(), algorithm, p, n, request.root());
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

    private static float[][] workArrays(CollectiveRequest request, Schedule schedule) {
        int p = schedule.cards();
        int n = schedule.elements();
        float[][] work = new float[p][];
        for (int card = 0; card < p; card++) {
            float[] buffer = request.buffers().get(card);
            work[card] = switch (request.kind()) {
                case ALL_REDUCE, BROADCAST -> buffer;
                case REDUCE_SCATTER -> buffer.clone();
                case ALL_GATHER -> {
                    float[] gathered = new float[schedule.workLength()];
                    System.arraycopy(buffer, 0, gathered, card * n, n);
                    yield gathered;
                }
            };
        }
        return work;
    }

    private static List<float[]> results(CollectiveRequest request, Schedule schedule, float[][] work) {
        int p = schedule.cards();
        int n = schedule.elements();
        boolean average = request.reduceOp() == ReduceOp.AVG;
        List<float[]> results = new ArrayList<>(p);
        for (int card = 0; card < p; card++) {
            float[] result = switch (request.kind()) {
                case ALL_REDUCE -> work[card];
                case BROADCAST, ALL_GATHER -> work[card];
                case REDUCE_SCATTER -> Arrays.copyOfRange(work[card], (int) ((long) card * n / p),
                        (int) ((long) (card + 1) * n / p));
            };
            if (average && (request.kind() == CollectiveKind.ALL_REDUCE
                    || request.kind() == CollectiveKind.REDUCE_SCATTER)) {
                float divisor = p;
                for (int i = 0; i < result.length; i++) {
                    result[i] = result[i] / divisor;
                }
            }
            results.add(result);
        }
        return results;
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

    private static final class CardThreads implements java.util.concurrent.ThreadFactory {
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            Thread thread = new Thread(r, "spanker-mock-card-" + count.getAndIncrement());
            thread.setDaemon(true);
            return thread;
        }
    }
}
