package org.popsolutions.spanker.console.support;

import java.util.List;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.CommandStatus;
import org.popsolutions.spanker.api.console.CommandTerminal;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.UsageException;

/**
 * Runs a command for a surface (the launcher, the Karaf shell) and turns how it ended into the {@link CommandResult}
 * the surface renders: the one mapping from a failure to its status (exit status), kind and message.
 */
public final class Results {
    private Results() {
    }

    /** Runs the command; a failure comes back as a result naming its status, kind and message. */
    public static CommandResult run(ConsoleCommand command, List<String> arguments) {
        return run(command, arguments, null);
    }

    /** As {@link #run(ConsoleCommand, List)}, in the surface's terminal (null: none). */
    public static CommandResult run(ConsoleCommand command, List<String> arguments, CommandTerminal terminal) {
        try {
            return command.execute(arguments, terminal);
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
            // the JVM (Karaf's, shared) goes on: the failure is the result
            return failure(e, asksForJson(arguments));
        }
    }

    /** Whether the command line asks for JSON ({@code --json} before any {@code --}). */
    public static boolean asksForJson(List<String> arguments) {
        String flag = "--" + AbstractConsoleCommand.JSON.name();
        for (String argument : arguments) {
            if (argument.equals("--")) {
                return false;
            }
            if (argument.equals(flag)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A bad command line is a usage error, a {@link SpankerException} a domain error (as JSON too when
     * {@code json}), anything else an internal error naming the failing type.
     */
    public static CommandResult failure(Throwable failure, boolean json) {
        String message = failure.getMessage() == null || failure.getMessage().isBlank()
                ? failure.getClass().getName() : failure.getMessage();
        if (failure instanceof UsageException) {
            return CommandResult.failure(CommandStatus.USAGE_ERROR, null, message, null);
        }
        if (failure instanceof SpankerException e) {
            return CommandResult.failure(CommandStatus.DOMAIN_ERROR, e.kind().label(), message,
                    json ? Json.error(e) : null);
        }
        return CommandResult.failure(CommandStatus.INTERNAL_ERROR, failure.getClass().getName(), message, null);
    }

    /** A message on one line: line breaks and the space around them become one space. */
    public static String oneLine(String message) {
        return message.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
