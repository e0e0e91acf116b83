package org.popsolutions.spanker.metrics.internal;

import java.beans.ConstructorProperties;

/** One directed link in {@link SpankerMetricsMXBean#getLinks()} (a bean: JMX maps it to CompositeData). */
public final class LinkMetrics {
    private final int local;
    private final int remote;
    private final String state;
    private final long bytes;
    private final long messages;

    @ConstructorProperties({"local", "remote", "state", "bytes", "messages"})
    public LinkMetrics(int local, int remote, String state, long bytes, long messages) {
        this.local = local;
        this.remote = remote;
        this.state = state;
        this.bytes = bytes;
        this.messages = messages;
    }

    public int getLocal() {
        return local;
    }

    public int getRemote() {
        return remote;
    }

    public String getState() {
        return state;
    }

    public long getBytes() {
        return bytes;
    }

    public long getMessages() {
        return messages;
    }
}
