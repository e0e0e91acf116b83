package org.popsolutions.spanker.api.cluster;

import java.time.Duration;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Linqu's operations on one node's task ring: the node submits tasks to its children (the level below) with
 * dependency gating through tensor handles. Every blocking call is bounded: a full ring, heap, dependency pool or
 * tensor map waits for retirement up to the back-pressure timeout, then throws {@link ClusterException}.
 */
@ProviderType
public interface Orchestrator {
    Coordinate self();

    /** This node's children that are live now. */
    List<Coordinate> children();

    /** The live nodes with the same parent as this node (itself excluded); never a dead node. */
    List<NodeInfo> queryPeers();

    /** Submits a task to a child; it is dispatched only when every producer of its inputs has completed. */
    long submitTask(Coordinate target, String kernel, List<TaskParam> params, FailurePolicy policy);

    /** One ring slot, one sub-task per target (SPMD); completes when all do, fails when one fails. */
    long submitTaskGroup(List<Coordinate> targets, String kernel, List<List<TaskParam>> params,
            FailurePolicy policy);

    void scopeBegin();

    /** Releases the scope's references: its tasks retire once completed and unused, its tensors are freed. */
    void scopeEnd();

    /** Reserves {@code bytes} in the heap ring for a tensor that tasks on {@code target} will produce. */
    long allocTensor(Coordinate target, int bytes);

    /** Puts initial data for a tensor on {@code target} (Linqu's REG_DATA). */
    void regData(Coordinate target, long handle, byte[] data);

    /** Releases the tensor early: no later task may use it; its memory goes once its users retire. */
    void freeTensor(long handle);

    /** Waits until every submitted task has completed or failed; throws when {@code timeout} passes first. */
    void waitAll(Duration timeout);

    /** How the task ended; the task must have completed or failed. */
    TaskOutcome outcome(long taskId);

    /** Ends this orchestration: waits nothing, releases every open scope. */
    void orchestrationDone();

    RingStats stats();
}
