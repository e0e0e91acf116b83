package org.popsolutions.spanker.api.console;

import java.util.List;
import org.osgi.annotation.versioning.ConsumerType;
import org.popsolutions.spanker.api.SpankerException;

/**
 * A command that both the Karaf console ({@code spanker:<name>}) and the standalone launcher
 * ({@code ./spanker <name>}) run. Registered as a service with property {@value #NAME}.
 */
@ConsumerType
public interface ConsoleCommand {
    String NAME = "spanker.command";
    String SCOPE = "spanker";

    CommandSpec spec();

    /**
     * Runs the command on its raw arguments (options and positionals as typed).
     *
     * @throws UsageException when the arguments do not fit {@link #spec()}
     * @throws SpankerException on a domain error
     */
    CommandResult execute(List<String> arguments);

    /**
     * Runs the command in a terminal: its live output (text as it is generated, progress) goes to {@code terminal}
     * (null: none, nothing live is drawn). Commands without live output need not override this.
     */
    default CommandResult execute(List<String> arguments, CommandTerminal terminal) {
        return execute(arguments);
    }
}
