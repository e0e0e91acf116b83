package org.popsolutions.spanker.api.card;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.osgi.annotation.versioning.ProviderType;
import org.popsolutions.spanker.api.topology.Topology;

/** Cards opened together, cabled to each other. Closing frees every buffer and stops the cards' work. */
@ProviderType
public interface CardGroup extends AutoCloseable {
    Topology topology();

    /** The cards in index order. */
    List<SailCard> cards();

    /**
     * Submits {@code programs.get(c)} to card c ({@code null}: nothing for that card) as one job: the programs of a
     * collective or of a decode step, which exchange messages with each other. Groups that share cards (a provider
     * may hand the same cards to several groups) get their jobs run in one order on every card, so one job's
     * messages never meet another's programs. Submitting to the cards one by one gives no such promise.
     *
     * @return each card's completion, {@code null} where nothing was submitted
     * @since 1.1
     */
    default List<CompletableFuture<ProgramCompletion>> submitAll(List<Program> programs) {
        List<SailCard> cards = cards();
        if (programs.size() != cards.size()) {
            throw new IllegalArgumentException(programs.size() + " programs for " + cards.size() + " cards");
        }
        List<CompletableFuture<ProgramCompletion>> running = new ArrayList<>(programs.size());
        for (int c = 0; c < programs.size(); c++) {
            running.add(programs.get(c) == null ? null : cards.get(c).submit(programs.get(c)));
        }
        return running;
    }

    @Override
    void close();
}
