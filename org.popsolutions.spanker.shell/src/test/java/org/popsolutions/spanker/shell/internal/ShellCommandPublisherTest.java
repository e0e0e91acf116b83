package org.popsolutions.spanker.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.karaf.shell.api.console.Command;
import org.apache.karaf.shell.api.console.Registry;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Constants;
import org.popsolutions.spanker.api.console.ConsoleCommand;

class ShellCommandPublisherTest {
    /** Only what the publisher uses of Karaf's registry: register and unregister commands. */
    private static final class FakeRegistry implements Registry {
        final List<Command> commands = new ArrayList<>();

        @Override
        public List<Command> getCommands() {
            return List.copyOf(commands);
        }

        @Override
        public Command getCommand(String scope, String name) {
            return commands.stream().filter(c -> c.getScope().equals(scope) && c.getName().equals(name)).findFirst()
                    .orElse(null);
        }

        @Override
        public <T> void register(Callable<T> factory, Class<T> clazz) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void register(Object service) {
            commands.add((Command) service);
        }

        @Override
        public void unregister(Object service) {
            if (!commands.remove(service)) {
                throw new IllegalStateException("not registered: " + service);
            }
        }

        @Override
        public <T> T getService(Class<T> clazz) {
            return null;
        }

        @Override
        public <T> List<T> getServices(Class<T> clazz) {
            return List.of();
        }

        @Override
        public boolean hasService(Class<?> clazz) {
            return false;
        }

        List<String> names() {
            return commands.stream().map(c -> c.getScope() + ":" + c.getName()).sorted().toList();
        }

        ConsoleCommand behind(String name) {
            return ((KarafCommand) getCommand("spanker", name)).consoleCommand();
        }
    }

    private final FakeRegistry registry = new FakeRegistry();
    private final ShellCommandPublisher publisher = new ShellCommandPublisher(registry);
    private long nextServiceId = 1;

    private Map<String, Object> properties(int ranking) {
        return Map.of(Constants.SERVICE_RANKING, ranking, Constants.SERVICE_ID, nextServiceId++);
    }

    @Test
    void registersAndUnregistersEachCommandAsItComesAndGoes() {
        ConsoleCommand topology = new FakeCommand("topology");
        ConsoleCommand pick = new FakeCommand("pick");
        publisher.addCommand(topology, properties(0));
        publisher.addCommand(pick, properties(0));
        assertEquals(List.of("spanker:pick", "spanker:topology"), registry.names());

        publisher.removeCommand(topology);
        assertEquals(List.of("spanker:pick"), registry.names());
        publisher.removeCommand(pick);
        assertEquals(List.of(), registry.names());
    }

    @Test
    void theHigherRankedOfTwoSameNamedCommandsWinsAndTheOtherTakesOverWhenItLeaves() {
        ConsoleCommand first = new FakeCommand("pick");
        ConsoleCommand better = new FakeCommand("pick");
        publisher.addCommand(first, properties(0));
        publisher.addCommand(better, properties(10));
        assertEquals(List.of("spanker:pick"), registry.names());
        assertSame(better, registry.behind("pick"));

        publisher.removeCommand(better);
        assertSame(first, registry.behind("pick"));
    }

    @Test
    void aLowerRankedArrivalDoesNotReplaceTheCurrentCommand() {
        ConsoleCommand current = new FakeCommand("pick");
        publisher.addCommand(current, properties(5));
        Command registered = registry.getCommand("spanker", "pick");
        publisher.addCommand(new FakeCommand("pick"), properties(0));
        assertSame(registered, registry.getCommand("spanker", "pick"));
    }

    @Test
    void deactivationUnregistersEverythingAndIgnoresLateUnbinds() {
        ConsoleCommand topology = new FakeCommand("topology");
        publisher.addCommand(topology, properties(0));
        publisher.deactivate();
        assertEquals(List.of(), registry.names());
        publisher.removeCommand(topology);
        assertEquals(List.of(), registry.names());
    }
}
