package org.popsolutions.spanker.runtime.service;

import java.util.List;
import java.util.function.Consumer;
import org.popsolutions.spanker.api.runtime.InferenceObserver;

/** Tells every observer; one that throws is skipped so it cannot end a generation or starve the others. */
final class Observers {
    private final List<InferenceObserver> observers;

    Observers(List<InferenceObserver> observers) {
        this.observers = observers;
    }

    void tell(Consumer<InferenceObserver> call) {
        for (InferenceObserver o : observers) {
            try {
                call.accept(o);
            } catch (RuntimeException ignored) {
                // an observer's failure is its own; the generation and the other observers go on
            }
        }
    }
}
