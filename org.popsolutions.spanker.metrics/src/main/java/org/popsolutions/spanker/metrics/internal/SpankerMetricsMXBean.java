package org.popsolutions.spanker.metrics.internal;

/**
 * The metrics as a JMX MXBean, {@value MetricsService#OBJECT_NAME}: what {@code spanker_*} says in the
 * Prometheus text, for JConsole, VisualVM or Karaf's JMX connector.
 */
public interface SpankerMetricsMXBean {
    int getCards();

    int getLinksUp();

    int getLinksDown();

    long getCollectives();

    double getCollectiveSeconds();

    /** Every directed link now: its state and the bytes and messages it has carried. */
    LinkMetrics[] getLinks();
}
