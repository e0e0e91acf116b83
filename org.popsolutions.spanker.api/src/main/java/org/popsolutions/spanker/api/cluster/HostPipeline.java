package org.popsolutions.spanker.api.cluster;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A model loaded as a pipeline on hosts of the running cluster. One token at a time; closing it frees every
 * host's cards.
 */
@ProviderType
public interface HostPipeline extends AutoCloseable {
    /** The plan with each stage's host and process. */
    HostPlan plan();

    /**
     * The logits of {@code token} at {@code position} (vocabulary long), the hidden state handed host to host.
     *
     * @throws ClusterException naming the host when a stage fails or its host dies
     */
    void forward(int token, int position, float[] logits);

    /** Per stage, the nanoseconds its host spent in its forward passes (its cards and host-link transfers). */
    long[] stageNanos();

    /** Wall nanoseconds of the forward passes, as the caller saw them. */
    long wallNanos();

    /** Forward passes since opened or reset. */
    int tokens();

    /** Starts counting {@link #stageNanos}, {@link #wallNanos} and {@link #tokens} again. */
    void resetStats();

    @Override
    void close();
}
