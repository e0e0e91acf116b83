package org.popsolutions.spanker.api.cluster;

/** Where a task is in its ring slot's life. */
public enum TaskState {
    PENDING,
    READY,
    RUNNING,
    COMPLETED,
    FAILED,
    CONSUMED
}
