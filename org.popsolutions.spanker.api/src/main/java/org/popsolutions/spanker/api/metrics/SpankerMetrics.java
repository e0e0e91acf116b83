package org.popsolutions.spanker.api.metrics;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The metrics of this Spanker instance: the cards and their memory, every directed link's state and the bytes
 * and messages it carried, the collectives run (count and time, per kind and algorithm). The same values are
 * published as JMX MBeans.
 */
@ProviderType
public interface SpankerMetrics {
    /** The media type of {@link #prometheusText()}. */
    String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /** Every metric, read now, in the Prometheus text exposition format (version 0.0.4). */
    String prometheusText();
}
