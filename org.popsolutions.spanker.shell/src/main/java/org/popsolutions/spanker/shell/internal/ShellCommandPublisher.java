package org.popsolutions.spanker.shell.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.karaf.shell.api.console.Registry;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.popsolutions.spanker.api.console.ConsoleCommand;

/**
 * Keeps the Karaf shell's {@code spanker:*} commands in step with the {@link ConsoleCommand} services: each
 * one that appears is registered in the shell's command registry (as Karaf does for its own commands), each
 * one that goes away is unregistered. When two services claim the same name, the one with the higher
 * {@code service.ranking} is the shell command, and the other takes over when it leaves.
 */
@Component
public final class ShellCommandPublisher {
    private static final Comparator<Claim> BEST_FIRST = Comparator.comparingInt(Claim::ranking).reversed()
            .thenComparingLong(Claim::serviceId);

    private record Claim(ConsoleCommand command, int ranking, long serviceId) {
    }

    private final Registry registry;
    private final Map<String, List<Claim>> candidatesByName = new HashMap<>();
    private final Map<String, KarafCommand> published = new HashMap<>();
    private boolean closed;

    @Activate
    public ShellCommandPublisher(@Reference SessionFactory sessionFactory) {
        this(sessionFactory.getRegistry());
    }

    ShellCommandPublisher(Registry registry) {
        this.registry = registry;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            target = "(" + ConsoleCommand.NAME + "=*)")
    synchronized void addCommand(ConsoleCommand command, Map<String, Object> properties) {
        if (closed) {
            return;
        }
        String name = command.spec().name();
        candidatesByName.computeIfAbsent(name, n -> new ArrayList<>())
                .add(new Claim(command, ranking(properties), serviceId(properties)));
        publishBest(name);
    }

    synchronized void removeCommand(ConsoleCommand command) {
        if (closed) {
            return;
        }
        for (Map.Entry<String, List<Claim>> entry : candidatesByName.entrySet()) {
            if (entry.getValue().removeIf(c -> c.command() == command)) {
                publishBest(entry.getKey());
                return;
            }
        }
    }

    @Deactivate
    synchronized void deactivate() {
        closed = true;
        published.values().forEach(registry::unregister);
        published.clear();
        candidatesByName.clear();
    }

    private void publishBest(String name) {
        List<Claim> candidates = candidatesByName.getOrDefault(name, List.of());
        ConsoleCommand best = candidates.stream().min(BEST_FIRST).map(Claim::command).orElse(null);
        KarafCommand current = published.get(name);
        if (current != null && current.consoleCommand() == best) {
            return;
        }
        if (current != null) {
            registry.unregister(current);
            published.remove(name);
        }
        if (best != null) {
            KarafCommand command = new KarafCommand(best);
            registry.register(command);
            published.put(name, command);
        } else {
            candidatesByName.remove(name);
        }
    }

    private static int ranking(Map<String, Object> properties) {
        return properties.get(Constants.SERVICE_RANKING) instanceof Integer ranking ? ranking : 0;
    }

    private static long serviceId(Map<String, Object> properties) {
        return properties.get(Constants.SERVICE_ID) instanceof Long id ? id : Long.MAX_VALUE;
    }
}
