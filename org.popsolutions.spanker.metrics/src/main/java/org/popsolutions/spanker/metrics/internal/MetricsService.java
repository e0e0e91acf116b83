package org.popsolutions.spanker.metrics.internal;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.collective.CollectiveOutcome;
import org.popsolutions.spanker.api.collective.CollectiveRequest;
import org.popsolutions.spanker.api.metrics.SpankerMetrics;
import org.popsolutions.spanker.api.runtime.InferenceObserver;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.ServingStatus;
import org.popsolutions.spanker.api.runtime.TokenEvent;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyService;

/**
 * Keeps the meters ({@link MeterBook}) and publishes them twice: as the {@link SpankerMetrics} service (the
 * Prometheus text, which the web bundle serves over HTTP) and as the MXBean {@value #OBJECT_NAME} in the
 * platform MBean server, which is the one Karaf's JMX connector serves on 127.0.0.1.
 */
@Component(service = {SpankerMetrics.class, MetricsService.class, InferenceObserver.class})
public final class MetricsService implements SpankerMetrics, SpankerMetricsMXBean, InferenceObserver {
    static final String OBJECT_NAME = "org.popsolutions.spanker:type=Metrics";

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile TopologyService topology;

    private final List<ServingStatus> serving = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final MeterBook meters = new MeterBook(this::currentTopology, () -> serving);

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addServing(ServingStatus status) {
        serving.add(status);
    }

    void removeServing(ServingStatus status) {
        serving.remove(status);
    }

    /** Every generated token, whoever asked for it (run, serve): counted, timed, its rate kept. */
    @Override
    public void token(LoadedModel model, TokenEvent event) {
        meters.recordToken(event);
    }

    @Override
    public long getTokens() {
        return meters.tokenCount();
    }

    @Override
    public double getTokensPerSecond() {
        return meters.tokensPerSecond();
    }

    @Override
    public int getQueueDepth() {
        return serving.stream().mapToInt(ServingStatus::queueDepth).sum();
    }
    private ObjectName registered;

    @Activate
    void activate() throws JMException {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName(OBJECT_NAME);
        if (!server.isRegistered(name)) {
            server.registerMBean(this, name);
            registered = name;
        }
    }

    @Deactivate
    void deactivate() throws JMException {
        if (registered != null) {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(registered);
        }
        meters.close();
    }

    void recordCollective(CollectiveRequest request, CollectiveOutcome outcome) {
        meters.recordCollective(request, outcome);
    }

    @Override
    public String prometheusText() {
        return meters.prometheusText();
    }

    @Override
    public int getCards() {
        Topology now = meters.refresh();
        return now == null ? 0 : now.cards().size();
    }

    @Override
    public int getLinksUp() {
        return countLinks(true);
    }

    @Override
    public int getLinksDown() {
        return countLinks(false);
    }

    @Override
    public long getCollectives() {
        return meters.collectiveCount();
    }

    @Override
    public double getCollectiveSeconds() {
        return meters.collectiveSeconds();
    }

    @Override
    public LinkMetrics[] getLinks() {
        Topology now = meters.refresh();
        List<LinkMetrics> links = new ArrayList<>();
        if (now != null) {
            for (Link link : now.links()) {
                long[] totals = meters.linkTotals(link.local(), link.remote());
                links.add(new LinkMetrics(link.local(), link.remote(), link.state().name(), totals[0], totals[1]));
            }
        }
        return links.toArray(LinkMetrics[]::new);
    }

    private int countLinks(boolean up) {
        Topology now = meters.refresh();
        return now == null ? 0 : (int) now.links().stream().filter(l -> (l.state() == LinkState.UP) == up).count();
    }

    private Topology currentTopology() {
        TopologyService service = topology;
        return service == null ? null : service.current();
    }
}
