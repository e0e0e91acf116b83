package org.popsolutions.spanker.ggml.kernel;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The kernel providers in effect, ranked: {@link Kernels#best()} uses the one with the highest ranking (the
 * earliest registered among equals). In OSGi the {@link KernelServiceTracker} mirrors every {@link Kernels}
 * service here with its {@code service.ranking}; outside a framework (tests, benchmarks) a provider is
 * registered directly. With nothing registered, {@link Kernels#portable()} is used.
 *
 * <p>A registry rather than only a service reference because the model code asks {@link Kernels#best()}
 * statically; the registry is what makes that static entry point follow the services.
 */
public final class KernelProviders {
    /** One registered provider and its rank. */
    public record Ranked(Kernels kernels, int ranking) {
    }

    private static final List<Ranked> REGISTERED = new ArrayList<>();
    private static volatile Kernels current = Kernels.portable();

    private KernelProviders() {
    }

    /** Adds (or re-ranks) a provider. */
    public static synchronized void register(Kernels kernels, int ranking) {
        REGISTERED.removeIf(r -> r.kernels() == kernels);
        REGISTERED.add(new Ranked(kernels, ranking));
        choose();
    }

    public static synchronized void unregister(Kernels kernels) {
        REGISTERED.removeIf(r -> r.kernels() == kernels);
        choose();
    }

    /** The providers registered now, highest ranking first. */
    public static synchronized List<Ranked> providers() {
        List<Ranked> sorted = new ArrayList<>(REGISTERED);
        sorted.sort(Comparator.comparingInt(Ranked::ranking).reversed());
        return List.copyOf(sorted);
    }

    /** The provider {@link Kernels#best()} uses now. */
    public static Kernels current() {
        return current;
    }

    private static void choose() {
        Ranked top = null;
        for (Ranked r : REGISTERED) {
            if (top == null || r.ranking() > top.ranking()) {
                top = r;
            }
        }
        current = top == null ? Kernels.portable() : top.kernels();
    }
}
