package org.popsolutions.spanker.api.cluster;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A task kernel: a service in a node's framework, registered with property {@value #NAME} = its name. A node that
 * lacks a kernel asks its orchestrator for the code (RETRY_WITH_CODE) and installs the bundle it receives.
 */
@ConsumerType
public interface ClusterTask {
    String NAME = "linqu.task";

    /** Manifest header of a shipped bundle listing the task names it registers (comma-separated). */
    String TASKS_HEADER = "Linqu-Tasks";

    /**
     * Runs on the node the task was sent to. Inputs are fetched before the call; outputs set through
     * {@link TaskContext#output} are kept on this node for consumers.
     *
     * @return bytes returned to the orchestrator (may be empty)
     * @throws Exception any failure; the task then fails with the exception's message and its consumers with it
     */
    byte[] run(TaskContext context) throws Exception;
}
