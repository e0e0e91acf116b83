package org.popsolutions.spanker.api.cluster;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/** What a running task sees: its node, its parameters with their inputs' bytes, and the level below. */
@ProviderType
public interface TaskContext {
    Coordinate self();

    List<TaskParam> params();

    /** The bytes of the INPUT or INOUT parameter at {@code index}. */
    byte[] input(int index);

    /** Sets the bytes of the OUTPUT or INOUT parameter at {@code index}; their size must be the allocated size. */
    void output(int index, byte[] data);

    /** The orchestrator this node runs for the level below it (not on an L3 host). */
    Orchestrator orchestrator();

    /** The pid of the process this node lives in. */
    long pid();
}
