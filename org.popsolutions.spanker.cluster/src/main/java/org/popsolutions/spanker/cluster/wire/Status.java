package org.popsolutions.spanker.cluster.wire;

/** Status codes of TASK_COMPLETE and TENSOR_DATA (0 is success). */
public final class Status {
    public static final int OK = 0;
    /** The kernel threw; the message is its reason. */
    public static final int TASK_ERROR = 1;
    /** An input could not be fetched from the node holding it. */
    public static final int INPUT_UNAVAILABLE = 2;
    /** The request broke a rule (unknown handle, wrong output size, no orchestrator on an L3 host). */
    public static final int BAD_REQUEST = 3;
    /** The node holding or running it died. */
    public static final int NODE_DEAD = 4;
    /** Code was shipped but could not be installed, or did not register the kernel. */
    public static final int CODE_REJECTED = 5;

    private Status() {
    }
}
