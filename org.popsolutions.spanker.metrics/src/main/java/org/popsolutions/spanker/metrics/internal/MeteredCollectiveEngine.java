package org.popsolutions.spanker.metrics.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.popsolutions.spanker.api.collective.CollectiveEngine;
import org.popsolutions.spanker.api.collective.CollectiveOutcome;
import org.popsolutions.spanker.api.collective.CollectiveRequest;

/**
 * The collective engine as its users see it while metrics are installed: it outranks the scheduler's engine
 * (the commands and the model runner take the highest-ranked one), hands every call to it, and counts what
 * came back. Removing the metrics bundle hands the users straight back to the scheduler's engine.
 */
@Component(property = {"service.ranking:Integer=100", MeteredCollectiveEngine.METERED + "=true"})
public final class MeteredCollectiveEngine implements CollectiveEngine {
    static final String METERED = "spanker.metered";

    private final CollectiveEngine engine;
    private final MetricsService metrics;

    @org.osgi.service.component.annotations.Activate
    public MeteredCollectiveEngine(
            @Reference(target = "(!(" + METERED + "=true))") CollectiveEngine engine,
            @Reference MetricsService metrics) {
        this.engine = engine;
        this.metrics = metrics;
    }

    @Override
    public CollectiveOutcome run(CollectiveRequest request) {
        CollectiveOutcome outcome = engine.run(request);
        metrics.recordCollective(request, outcome);
        return outcome;
    }
}
