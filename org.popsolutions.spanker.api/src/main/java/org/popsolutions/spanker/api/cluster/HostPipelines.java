package org.popsolutions.spanker.api.cluster;

import org.osgi.annotation.versioning.ProviderType;

/** Runs llama models as pipelines across L3 hosts of the running cluster (issue: inference past one host). */
@ProviderType
public interface HostPipelines {
    /** The plan and its prediction, placed on no host yet (no cluster needed). */
    HostPlan plan(HostPipelineRequest request);

    /**
     * Places the stages on K live hosts of one pod and loads each on its host's cards.
     *
     * @throws ClusterException when no cluster runs, when no pod has K live hosts, or when a host fails to load
     */
    HostPipeline open(HostPipelineRequest request);
}
