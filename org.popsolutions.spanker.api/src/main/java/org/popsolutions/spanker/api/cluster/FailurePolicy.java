package org.popsolutions.spanker.api.cluster;

/** What happens to a task whose node dies while it runs. */
public enum FailurePolicy {
    /** The task fails with the dead node named; its consumers fail with it. */
    FAIL,
    /** The task runs again on a live sibling of its node, if its inputs are still reachable; otherwise it fails. */
    RERUN_ON_SIBLING
}
