package org.popsolutions.spanker.cluster.node;

import java.util.List;
import java.util.concurrent.ExecutorService;

/** What the nodes of one process share: membership, the framework with the kernels, a thread pool, the pid. */
interface ProcessRuntime {
    Membership membership();

    TaskServices services();

    ExecutorService executor();

    long pid();

    /** Ends the process shortly (after answering the message that asked for it). */
    void shutdownSoon(boolean graceful);

    List<Node> nodes();
}
