package org.popsolutions.spanker.api.cluster;

/** A node as membership sees it. */
public enum NodeState {
    /** Its process is a member of the cluster. */
    LIVE,
    /** Its process still exists but is not (or no longer) a member. */
    SUSPECT,
    /** Its process left the membership and no longer exists, or was removed by failure detection. */
    DEAD
}
