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

    /** Tokens generated since start (every run and every served request). */
    long getTokens();

    /** Generated tokens per second of the current or last generation. */
    double getTokensPerSecond();

    /** Requests waiting at the serving endpoints. */
    int getQueueDepth();

    /** Every directed link now: its state and the bytes and messages it has carried. */
    LinkMetrics[] getLinks();
}
