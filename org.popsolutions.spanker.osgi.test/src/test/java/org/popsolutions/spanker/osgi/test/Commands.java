package org.popsolutions.spanker.osgi.test;

import java.util.List;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.ConsoleCommand;

/** Runs console commands the way a surface does: find the service by its command name, execute, read the JSON. */
final class Commands {
    private Commands() {
    }

    /** The registered command service objects named {@code name} (empty when none is registered now). */
    static List<ConsoleCommand> named(BundleContext context, String name) {
        try {
            return context.getServiceReferences(ConsoleCommand.class, "(" + ConsoleCommand.NAME + "=" + name + ")")
                    .stream().map(context::getService).filter(s -> s != null).toList();
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static ConsoleCommand command(BundleContext context, String name) {
        List<ConsoleCommand> commands = named(context, name);
        if (commands.isEmpty()) {
            throw new AssertionError("no ConsoleCommand service named '" + name + "' is registered");
        }
        return commands.get(0);
    }

    static String json(ConsoleCommand command, String... arguments) {
        List<String> withJson = new java.util.ArrayList<>(List.of(arguments));
        withJson.add("--json");
        CommandResult result = command.execute(withJson);
        if (!result.isJson()) {
            throw new AssertionError("--json did not produce JSON: " + result);
        }
        return result.json();
    }

    static List<ServiceReference<ConsoleCommand>> all(BundleContext context) {
        try {
            return List.copyOf(context.getServiceReferences(ConsoleCommand.class, null));
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
