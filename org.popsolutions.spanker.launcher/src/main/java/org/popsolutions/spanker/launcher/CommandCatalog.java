package org.popsolutions.spanker.launcher;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;
import org.popsolutions.spanker.api.console.CommandSpec;
import org.popsolutions.spanker.api.console.ConsoleCommand;

/**
 * The {@link ConsoleCommand} services of a framework, by their {@value ConsoleCommand#NAME} property.
 *
 * <p>Declarative Services registers components asynchronously after their bundles start, so a command may appear
 * a moment after the framework is up. A command is therefore waited for, but only while registrations keep
 * arriving: once none has arrived for {@code settle}, the set is taken as complete (an unknown command is reported
 * then instead of after the whole {@code timeout}). {@code timeout} bounds every wait. The names the started
 * bundles declare ({@link DeclaredCommands}) shorten the wait further: the listing is complete as soon as every
 * declared command is registered, and a name nobody declares is unknown at once.
 */
final class CommandCatalog implements AutoCloseable {
    private final BundleContext context;
    private final ServiceTracker<ConsoleCommand, ServiceReference<ConsoleCommand>> tracker;
    private final long timeoutNanos;
    private final long settleNanos;
    private final long openedAt;
    /** Read from the bundles only when a name is missing or the whole list is asked for: not on a command's way. */
    private Set<String> declared;
    private final Object changes = new Object();
    private long lastChange;
    private long generation;

    CommandCatalog(BundleContext context, Duration timeout, Duration settle) {
        this.context = context;
        this.timeoutNanos = timeout.toNanos();
        this.settleNanos = settle.toNanos();
        // Tracks references only: a command's component is activated (getService) only when it runs or is listed.
        this.tracker = new ServiceTracker<>(context, ConsoleCommand.class, null) {
            @Override
            public ServiceReference<ConsoleCommand> addingService(ServiceReference<ConsoleCommand> reference) {
                changed();
                return reference;
            }

            @Override
            public void removedService(ServiceReference<ConsoleCommand> reference,
                    ServiceReference<ConsoleCommand> tracked) {
                changed();
            }
        };
        this.openedAt = System.nanoTime();
        this.lastChange = openedAt;
        tracker.open();
    }

    /**
     * The service registered under {@code name} (the highest ranked if several), waiting as described above.
     *
     * @throws IllegalStateException when the command is registered but its component fails to activate
     */
    Optional<ConsoleCommand> find(String name) throws InterruptedException {
        while (true) {
            long seen = generation();
            Optional<ServiceReference<ConsoleCommand>> reference = lookup(name);
            if (reference.isPresent()) {
                ConsoleCommand command = context.getService(reference.get());
                if (command == null) {
                    throw new IllegalStateException("command '" + name
                            + "' is registered but its component did not activate (SPANKER_DEBUG=1 shows why)");
                }
                return Optional.of(command);
            }
            Set<String> declared = declared();
            if (!declared.isEmpty() && !declared.contains(name)) {
                return Optional.empty();
            }
            if (!awaitChange(seen)) {
                return Optional.empty();
            }
        }
    }

    /** Every command's spec by name, once registrations have settled (or the timeout has passed). */
    SortedMap<String, CommandSpec> all() throws InterruptedException {
        Set<String> declared = declared();
        while ((declared.isEmpty() || !registeredNames().containsAll(declared)) && awaitChange(generation())) {
            // Keep waiting until every declared command is there or registrations settle.
        }
        SortedMap<String, CommandSpec> specs = new TreeMap<>();
        for (ServiceReference<ConsoleCommand> reference : sortedReferences()) {
            ConsoleCommand command = context.getService(reference);
            if (command == null) {
                continue;
            }
            for (String name : names(reference)) {
                specs.putIfAbsent(name, command.spec());
            }
        }
        return specs;
    }

    /**
     * Waits for a registration change after generation {@code seen}; {@code false} when registrations have
     * settled or the timeout has passed instead.
     */
    private boolean awaitChange(long seen) throws InterruptedException {
        long deadline = openedAt + timeoutNanos;
        synchronized (changes) {
            while (generation == seen) {
                long now = System.nanoTime();
                long settledAt = lastChange + settleNanos;
                if (now - deadline >= 0 || now - settledAt >= 0) {
                    return false;
                }
                long millis = Math.max(1, Math.min(deadline - now, settledAt - now) / 1_000_000);
                changes.wait(millis);
            }
            return true;
        }
    }

    private synchronized Set<String> declared() {
        if (declared == null) {
            declared = DeclaredCommands.in(context);
        }
        return declared;
    }

    private Set<String> registeredNames() {
        Set<String> names = new HashSet<>();
        for (ServiceReference<ConsoleCommand> reference : sortedReferences()) {
            names.addAll(Arrays.asList(names(reference)));
        }
        return names;
    }

    private Optional<ServiceReference<ConsoleCommand>> lookup(String name) {
        return sortedReferences().stream().filter(r -> Arrays.asList(names(r)).contains(name)).findFirst();
    }

    /** Preferred first: ServiceReference order is ranking, then registration order, so reversed. */
    private List<ServiceReference<ConsoleCommand>> sortedReferences() {
        ServiceReference<ConsoleCommand>[] references = tracker.getServiceReferences();
        if (references == null) {
            return List.of();
        }
        List<ServiceReference<ConsoleCommand>> sorted = new ArrayList<>(Arrays.asList(references));
        sorted.sort(Comparator.reverseOrder());
        return sorted;
    }

    private static String[] names(ServiceReference<?> reference) {
        Object value = reference.getProperty(ConsoleCommand.NAME);
        if (value instanceof String s) {
            return new String[] {s};
        }
        if (value instanceof String[] array) {
            return array;
        }
        return new String[0];
    }

    private void changed() {
        synchronized (changes) {
            lastChange = System.nanoTime();
            generation++;
            changes.notifyAll();
        }
    }

    private long generation() {
        synchronized (changes) {
            return generation;
        }
    }

    @Override
    public void close() {
        tracker.close();
    }
}
