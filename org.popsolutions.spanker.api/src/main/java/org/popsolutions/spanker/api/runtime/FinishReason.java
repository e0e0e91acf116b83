package org.popsolutions.spanker.api.runtime;

/** Why a generation ended. */
public enum FinishReason {
    /** {@code maxTokens} were generated. */
    LENGTH,
    /** The end-of-sequence token was generated. */
    STOP,
    /** The listener asked to stop (e.g. the client went away). */
    CANCELLED
}
