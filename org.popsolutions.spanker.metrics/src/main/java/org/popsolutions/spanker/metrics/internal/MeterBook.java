package org.popsolutions.spanker.metrics.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.collective.CollectiveOutcome;
import org.popsolutions.spanker.api.collective.CollectiveRequest;
import org.popsolutions.spanker.api.collective.LinkTraffic;
import org.popsolutions.spanker.api.runtime.ServingStatus;
import org.popsolutions.spanker.api.runtime.TokenEvent;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Link;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.api.topology.Topology;

/**
 * The meters, kept in one Micrometer registry that writes the Prometheus text format. Counters and timers are
 * updated as collectives finish; the card and link gauges are read from the topology each time the metrics are
 * read, so a card that went away is not reported.
 *
 * <p>Names (Prometheus spelling): {@code spanker_cards}, {@code spanker_card_memory_bytes{card,name}},
 * {@code spanker_link_up{local,remote,state}} (1 when UP), {@code spanker_link_bytes_total{local,remote}} and
 * {@code spanker_link_messages_total{local,remote}} (per direction: a link is directed),
 * {@code spanker_collective_seconds{kind,algorithm}} (count and sum), {@code spanker_tokens_total} (tokens generated),
 * {@code spanker_token_seconds} (count and sum of the measured time of each token's forward pass),
 * {@code spanker_tokens_per_second} (the current or last generation's rate), {@code spanker_serve_queue_depth}
 * (requests waiting at every serving endpoint), {@code spanker_serve_running} and
 * {@code spanker_serve_rejected_total} (refused with 503: queue full).
 */
final class MeterBook {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Supplier<Topology> topology;
    private final AtomicReference<Topology> lastRead = new AtomicReference<>();
    private final MultiGauge cardMemory;
    private final MultiGauge linkUp;
    private final Counter tokens;
    private final Timer tokenTime;
    /** Held here: Micrometer's gauges keep only weak references to what they read. */
    private final Supplier<List<ServingStatus>> serving;
    private final java.util.concurrent.atomic.AtomicLong tokensPerSecondBits = new java.util.concurrent.atomic.AtomicLong();

    /**
     * @param topology the cards now, or {@code null} when there are none
     * @param serving the serving endpoints now
     */
    MeterBook(Supplier<Topology> topology, Supplier<List<ServingStatus>> serving) {
        this.topology = topology;
        this.serving = serving;
        tokens = Counter.builder("spanker.tokens").description("tokens generated").register(registry);
        tokenTime = Timer.builder("spanker.token").description("measured time of each generated token's forward pass")
                .register(registry);
        Gauge.builder("spanker.tokens.per.second", tokensPerSecondBits, b -> Double.longBitsToDouble(b.get()))
                .description("generated tokens per second of the current or last generation").register(registry);
        Gauge.builder("spanker.serve.queue.depth", this.serving,
                s -> s.get().stream().mapToInt(ServingStatus::queueDepth).sum()).strongReference(true)
                .description("requests waiting for their turn at the serving endpoints").register(registry);
        Gauge.builder("spanker.serve.running", this.serving,
                s -> s.get().stream().mapToInt(ServingStatus::running).sum()).strongReference(true)
                .description("generations running at the serving endpoints").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("spanker.serve.rejected", this.serving,
                s -> s.get().stream().mapToLong(ServingStatus::rejected).sum())
                .description("requests refused because the queue was full (HTTP 503)").register(registry);
        Gauge.builder("spanker.cards", lastRead, r -> r.get() == null ? 0 : r.get().cards().size())
                .description("cards in the topology").register(registry);
        cardMemory = MultiGauge.builder("spanker.card.memory").baseUnit("bytes")
                .description("card-local DDR capacity").register(registry);
        linkUp = MultiGauge.builder("spanker.link.up")
                .description("1 when the directed link is UP, else 0; the state is a label").register(registry);
    }

    void recordCollective(CollectiveRequest request, CollectiveOutcome outcome) {
        Timer.builder("spanker.collective").description("collectives run, by kind and algorithm")
                .tags("kind", request.kind().name(), "algorithm", outcome.algorithm().name())
                .register(registry).record(outcome.elapsedNanos(), TimeUnit.NANOSECONDS);
        for (LinkTraffic traffic : outcome.traffic()) {
            Tags link = linkTags(traffic.local(), traffic.remote());
            Counter.builder("spanker.link.bytes").baseUnit("bytes").description("payload bytes sent over the directed link")
                    .tags(link).register(registry).increment(traffic.bytes());
            Counter.builder("spanker.link.messages").description("messages sent over the directed link")
                    .tags(link).register(registry).increment(traffic.messages());
        }
    }

    void recordToken(TokenEvent event) {
        tokens.increment();
        tokenTime.record(Math.round(event.measuredSeconds() * 1e9), TimeUnit.NANOSECONDS);
        tokensPerSecondBits.set(Double.doubleToLongBits(event.tokensPerSecond()));
    }

    long tokenCount() {
        return (long) tokens.count();
    }

    double tokensPerSecond() {
        return Double.longBitsToDouble(tokensPerSecondBits.get());
    }

    /** Reads the topology into the gauges and returns it ({@code null} when there are no cards). */
    Topology refresh() {
        Topology now = readTopology();
        lastRead.set(now);
        List<MultiGauge.Row<?>> memory = new ArrayList<>();
        List<MultiGauge.Row<?>> links = new ArrayList<>();
        if (now != null) {
            for (Card card : now.cards()) {
                memory.add(MultiGauge.Row.of(Tags.of("card", Integer.toString(card.index()), "name", card.name()),
                        card.memoryBytes()));
            }
            for (Link link : now.links()) {
                links.add(MultiGauge.Row.of(linkTags(link.local(), link.remote()).and("state", link.state().name()),
                        link.state() == LinkState.UP ? 1 : 0));
            }
        }
        cardMemory.register(memory, true);
        linkUp.register(links, true);
        return now;
    }

    String prometheusText() {
        refresh();
        return registry.scrape();
    }

    /** Bytes and messages carried by one directed link so far. */
    long[] linkTotals(int local, int remote) {
        Tags tags = linkTags(local, remote);
        Counter bytes = registry.find("spanker.link.bytes").tags(tags).counter();
        Counter messages = registry.find("spanker.link.messages").tags(tags).counter();
        return new long[] {bytes == null ? 0 : (long) bytes.count(), messages == null ? 0 : (long) messages.count()};
    }

    long collectiveCount() {
        return registry.find("spanker.collective").timers().stream().mapToLong(Timer::count).sum();
    }

    double collectiveSeconds() {
        return registry.find("spanker.collective").timers().stream().mapToDouble(t -> t.totalTime(TimeUnit.SECONDS)).sum();
    }

    void close() {
        registry.close();
    }

    private Topology readTopology() {
        try {
            return topology.get();
        } catch (SpankerException noCards) {
            return null;
        }
    }

    private static Tags linkTags(int local, int remote) {
        return Tags.of("local", Integer.toString(local), "remote", Integer.toString(remote));
    }
}
