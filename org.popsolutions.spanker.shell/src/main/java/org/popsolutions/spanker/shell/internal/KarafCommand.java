package org.popsolutions.spanker.shell.internal;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.karaf.shell.api.console.Command;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Parser;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.CommandException;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.console.CommandSpec;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Json;

/**
 * One Spanker {@link ConsoleCommand} as the Karaf shell command {@code spanker:<name>}.
 *
 * <p>Output goes to {@code System.out}/{@code System.err}: while a command runs, Karaf's ThreadIO points
 * them at the calling session's streams (and at the next stage of a pipe), as for Karaf's own commands.
 *
 * <p>Errors: a {@link UsageException} or {@link SpankerException} is reported as one line on the session's
 * error stream (with {@code --json}, a domain error is the JSON document {@code {"error": ...}} on the
 * output stream instead), then a Karaf {@link CommandException} with an empty text is thrown. Karaf shows a
 * {@code CommandException} by printing only that text (no "Error executing command", no stack trace, logged
 * at debug level), and a thrown exception is what makes {@code bin/client} and ssh exec exit with status 1.
 */
final class KarafCommand implements Command {
    private final ConsoleCommand command;
    private final CommandSpec spec;
    private final Completer globalCompleter;
    private final Completer scopedCompleter;

    KarafCommand(ConsoleCommand command) {
        this.command = command;
        this.spec = command.spec();
        String name = spec.name();
        this.globalCompleter = new OptionCompleter(spec, List.of(ConsoleCommand.SCOPE + ":" + name, name));
        this.scopedCompleter = new OptionCompleter(spec, List.of(name));
    }

    ConsoleCommand consoleCommand() {
        return command;
    }

    @Override
    public String getScope() {
        return ConsoleCommand.SCOPE;
    }

    @Override
    public String getName() {
        return spec.name();
    }

    @Override
    public String getDescription() {
        return spec.description();
    }

    @Override
    public Completer getCompleter(boolean scoped) {
        return scoped ? scopedCompleter : globalCompleter;
    }

    @Override
    public Parser getParser() {
        return null;
    }

    @Override
    public Object execute(Session session, List<Object> arguments) throws Exception {
        List<String> words = new ArrayList<>(arguments.size());
        for (Object argument : arguments) {
            words.add(Objects.toString(argument, ""));
        }
        String failure = run(words, System.out, System.err);
        if (failure != null) {
            throw new CommandException("", failure);
        }
        return null;
    }

    /**
     * Runs the command and prints its result or its error.
     *
     * @return {@code null} on success, else the one-line error message already printed
     */
    String run(List<String> arguments, PrintStream out, PrintStream err) {
        try {
            ResultPrinter.print(command.execute(arguments), out);
            return null;
        } catch (UsageException e) {
            String message = qualifiedName() + ": " + e.getMessage() + " (see " + qualifiedName() + " --help)";
            err.println(message);
            err.flush();
            return message;
        } catch (SpankerException e) {
            String message = qualifiedName() + ": " + e.kind().label() + ": " + e.getMessage();
            if (wantsJson(arguments)) {
                out.println(Json.error(e));
                out.flush();
            } else {
                err.println(message);
                err.flush();
            }
            return message;
        }
    }

    private String qualifiedName() {
        return ConsoleCommand.SCOPE + ":" + spec.name();
    }

    private static boolean wantsJson(List<String> arguments) {
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
}
