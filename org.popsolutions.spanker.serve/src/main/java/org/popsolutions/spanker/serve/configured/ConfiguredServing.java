package org.popsolutions.spanker.serve.configured;

import java.nio.file.Path;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.osgi.annotation.bundle.Capability;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.config.ConfigProperties;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.model.ModelReader;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.ModelPlanner;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plan.PlanOptions;
import org.popsolutions.spanker.api.runtime.InferenceService;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.ModelLoad;
import org.popsolutions.spanker.api.runtime.ServingStatus;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyService;
import org.popsolutions.spanker.serve.openai.OpenAiProtocol;

/**
 * The endpoint as a Karaf service: while {@code etc/org.popsolutions.spanker.serve.cfg} names a {@code model}, it is
 * planned on the registered cards, placed, and its {@link OpenAiProtocol} registered for the HTTP whiteboard
 * (spanker-web serves it at {@code /v1/*} and {@code /health} on Karaf's HTTP port). An empty {@code model} serves
 * nothing. A new configuration replaces the model; removing it frees the cards. When the cards change (a device
 * bundle swapped in or out, a card lost), the model is planned and placed again on the cards there are then.
 */
@Capability(namespace = "osgi.service", attribute = "objectClass:List<String>="
        + "'org.popsolutions.spanker.serve.openai.OpenAiProtocol,org.popsolutions.spanker.api.runtime.ServingStatus'")
@Component(configurationPid = ConfiguredServing.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {})
public final class ConfiguredServing {
    static final String PID = "org.popsolutions.spanker.serve";
    /** A swap registers and unregisters cards one by one: wait for it to settle before placing again. */
    static final long SETTLE_MILLIS = 500;
    static final long STOP_WAIT_SECONDS = 10;

    /** A model placed on some cards and served. */
    private record Placement(List<Card> cards, LoadedModel model, OpenAiProtocol protocol,
            ServiceRegistration<?> registration) {
        void close() {
            protocol.close();
            try {
                registration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the bundle is stopping
            }
            model.close();
        }
    }

    private final BundleContext context;
    private final ModelPlanner planner;
    private final TopologyService topology;
    private final InferenceService inference;
    private final Path path;
    private final String name;
    private final int queue;
    private final ModelShape shape;
    private final int contextLength;
    private final int threads;
    /**
     * Places the model again after a change of cards, one placement at a time. The framework tells of a change while
     * the device bundles hold their own locks: the notification only schedules (it never waits for a lock of this
     * component), and the placer takes no lock of its own while it calls the cards.
     */
    private final ScheduledExecutorService placer;
    private final AtomicBoolean placementPending = new AtomicBoolean();
    private volatile boolean stopped;
    /** Set by the constructor, then changed only on the placer thread, and by {@link #stop} once that has ended. */
    private volatile Placement placement;

    /** Karaf's log (pax-logging); a failed placement after a change of cards is said there. */
    @Reference(service = LoggerFactory.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC)
    private volatile Logger logger;

    @Activate
    public ConfiguredServing(BundleContext context, Map<String, Object> properties, @Reference ModelReader reader,
            @Reference ModelPlanner planner, @Reference TopologyService topology,
            @Reference InferenceService inference) {
        this.context = context;
        this.planner = planner;
        this.topology = topology;
        this.inference = inference;
        ConfigProperties config = new ConfigProperties(PID, properties);
        String file = config.string("model", "").strip();
        if (file.isEmpty()) {
            path = null;
            name = null;
            queue = 0;
            shape = null;
            contextLength = 0;
            threads = 0;
            placer = null;
            return;
        }
        path = Path.of(file);
        String fileName = path.getFileName().toString();
        name = config.string("name", fileName.endsWith(".gguf") ? fileName.substring(0, fileName.length() - 5)
                : fileName);
        queue = config.intWithin("queue", 8, 0, 10_000);
        shape = reader.read(path);
        contextLength = config.intWithin("context", shape.contextLength(), 1, shape.contextLength());
        threads = config.intWithin("threads", 1, 1, 1024);
        placement = place(topology.current());
        placer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "spanker-serve-placer");
            thread.setDaemon(true);
            return thread;
        });
    }

    private Placement place(Topology cards) {
        long memory = cards.cards().stream().mapToLong(Card::memoryBytes).min().orElseThrow(
                () -> new InvalidConfigurationException(PID + ": no cards are registered to serve " + path + " on"));
        Plan plan = planner.plan(shape, cards, new PlanOptions(memory, contextLength));
        LoadedModel model = inference.load(new ModelLoad(path, plan, cards, ActivationMode.GGML, threads,
                contextLength, CollectiveAlgorithm.AUTO));
        OpenAiProtocol protocol = new OpenAiProtocol(model, name, queue);
        Hashtable<String, Object> serviceProperties = new Hashtable<>();
        serviceProperties.put("spanker.model", name);
        ServiceRegistration<?> registration = context.registerService(new String[] {OpenAiProtocol.class.getName(),
            ServingStatus.class.getName()}, protocol, serviceProperties);
        return new Placement(cards.cards(), model, protocol, registration);
    }

    /** The topology's service properties change with every change of cards or links. */
    @Reference(name = "cardChanges", service = TopologyService.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, unbind = "unbindCardChanges", updated = "updatedCardChanges")
    void bindCardChanges(Map<String, Object> properties) {
        // the first topology is the one the constructor placed the model on
    }

    void updatedCardChanges(Map<String, Object> properties) {
        scheduleReplacement();
    }

    void unbindCardChanges(Map<String, Object> properties) {
        // the component goes with its static topology reference
    }

    private void scheduleReplacement() {
        if (placer == null || stopped || !placementPending.compareAndSet(false, true)) {
            return;
        }
        try {
            placer.schedule(this::placeAgainIfTheCardsChanged, SETTLE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            placementPending.set(false);
        }
    }

    private void placeAgainIfTheCardsChanged() {
        placementPending.set(false);
        if (stopped) {
            return;
        }
        Topology now;
        try {
            now = topology.current();
        } catch (SpankerException noCards) {
            now = null;
        }
        Placement old = placement;
        if (now != null && old != null && old.cards().equals(now.cards())) {
            return; // a link changed state, the cards did not
        }
        if (old != null) {
            placement = null;
            closeQuietly(old);
        }
        if (now == null) {
            log("no cards are registered; " + name + " is served again when cards come");
            return;
        }
        try {
            placement = place(now);
        } catch (RuntimeException e) {
            log("cannot place " + name + " on the " + now.cards().size() + " cards registered now: " + e.getMessage()
                    + "; it is served again when the cards change or the configuration is updated");
        }
    }

    private void closeQuietly(Placement old) {
        try {
            old.close();
        } catch (RuntimeException cardsGone) {
            log("freeing " + name + " on the cards it left: " + cardsGone.getMessage());
        }
    }

    private void log(String message) {
        Logger log = logger;
        if (log != null) {
            log.warn("{}: {}", PID, message);
        } else {
            System.err.println(PID + ": " + message);
        }
    }

    @Deactivate
    void stop() {
        stopped = true;
        if (placer != null) {
            placer.shutdownNow();
            try {
                // bounded: a placement blocked on a device that is going away with this component must not hold it
                placer.awaitTermination(STOP_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Placement last = placement;
        placement = null;
        if (last != null) {
            closeQuietly(last);
        }
    }
}
