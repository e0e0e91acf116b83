package org.popsolutions.spanker.api.card;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A job prepared once and run many times: one program per card of a group (a decode step), submitted together as
 * {@link CardGroup#submitAll} submits them, each time the same programs. A provider re-arms the job's completions for
 * every run instead of creating them, so a run need allocate nothing on the host. One run at a time.
 *
 * @since 1.2
 */
@ProviderType
public interface PreparedJob extends AutoCloseable {
    /**
     * Submits every card's program as one job and waits until all have ended. The first card that fails ends the wait
     * (the others may be waiting for its messages) and its failure is thrown: a {@link CardOpException} naming the
     * card and the op, or an {@link org.popsolutions.spanker.api.DeviceException} when the card is gone.
     */
    void run();

    /**
     * What card {@code card} reported at the end of the last run that ended well: its ops, busy time, device times and
     * time dilation (a collective's device time is the last card's finish less the first card's start). {@code null}
     * when the job has no program for that card, or that card's program of the last run failed or has not ended.
     * Asking may allocate; a run does not.
     *
     * @since 1.3
     */
    default ProgramCompletion completion(int card) {
        return null;
    }

    /** Lets go of what the job holds for its runs; the programs' buffers stay the caller's. */
    @Override
    default void close() {
    }
}
