package org.popsolutions.spanker.api.runtime;

import org.osgi.annotation.versioning.ProviderType;

/** Places models on the cards and runs them; the runtime bundle provides it. */
@ProviderType
public interface InferenceService {
    /**
     * Opens the plan's cards, places every card's shard by host-link writes and builds the card programs.
     *
     * @throws org.popsolutions.spanker.api.SpankerException when the model cannot be read, the plan does not fit
     *         the cards, or the cards refuse (memory, link, device errors)
     */
    LoadedModel load(ModelLoad request);

    /** As {@link #load(ModelLoad)}, telling {@code progress} how many of the weights' bytes the cards have been sent. */
    default LoadedModel load(ModelLoad request, LoadProgress progress) {
        return load(request);
    }

    /**
     * Opens the cards of the named provider, places the shards of one pipeline stage and builds its programs (a host's
     * part of a pipeline across hosts).
     *
     * @throws org.popsolutions.spanker.api.SpankerException as {@link #load}, and when no provider of that name is
     *         registered
     * @since 1.1
     */
    LoadedStage loadStage(StageLoad request);
}
