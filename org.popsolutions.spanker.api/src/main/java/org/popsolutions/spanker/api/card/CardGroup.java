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

    /**
     * Prepares {@code programs} ({@code programs.get(c)} for card c, {@code null}: nothing) as a job to be run again
     * and again ({@link PreparedJob#run}), in the same order with other groups' jobs as {@link #submitAll}. The
     * default submits through {@link #submitAll} on every run (a future per card per run) and keeps the last run's
     * completions for {@link PreparedJob#completion}; a provider whose cards can re-arm a completion implements it
     * without allocating.
     *
     * @since 1.2
     */
    default PreparedJob prepare(List<Program> programs) {
        if (programs.size() != cards().size()) {
            throw new IllegalArgumentException(programs.size() + " programs for " + cards().size() + " cards");
        }
        List<Program> job = new ArrayList<>(programs);
        return new PreparedJob() {
            /** The last run's completions, kept for {@link PreparedJob#completion}. */
            private List<CompletableFuture<ProgramCompletion>> last = List.of();

            @Override
            public void run() {
                last = submitAll(job);
                awaitAll(last);
            }

            @Override
            public ProgramCompletion completion(int card) {
                CompletableFuture<ProgramCompletion> done = card >= 0 && card < last.size() ? last.get(card) : null;
                return done == null || !done.isDone() || done.isCompletedExceptionally() ? null : done.join();
            }
        };
    }

    /** Waits for every completion ({@code null}: none); the first failure ends the wait and is thrown. */
    private static void awaitAll(List<CompletableFuture<ProgramCompletion>> completions) {
        List<CompletableFuture<ProgramCompletion>> running = new ArrayList<>();
        for (CompletableFuture<ProgramCompletion> f : completions) {
            if (f != null) {
                running.add(f);
            }
        }
        CompletableFuture<Object> failed = new CompletableFuture<>();
        running.forEach(f -> f.whenComplete((done, e) -> {
            if (e != null) {
                failed.completeExceptionally(e);
            }
        }));
        try {
            CompletableFuture.anyOf(CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)), failed).join();
        } catch (java.util.concurrent.CompletionException e) {
            Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException inner ? inner.getCause()
                    : e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new org.popsolutions.spanker.api.DeviceException("a card failed: " + cause, cause);
        }
    }

    @Override
    void close();
}
