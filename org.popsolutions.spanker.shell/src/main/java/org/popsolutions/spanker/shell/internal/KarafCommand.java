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
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.CommandTerminal;
import org.popsolutions.spanker.api.console.CommandSpec;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.console.support.Help;
import org.popsolutions.spanker.console.support.JLineTerminal;
import org.popsolutions.spanker.console.support.Results;

/**
 * One Spanker {@link ConsoleCommand} as the Karaf shell command {@code spanker:<name>}.
 *
 * <p>Output goes to {@code System.out}: while a command runs, Karaf's ThreadIO points it at the calling
 * session's output (or at the next stage of a pipe), as for Karaf's own commands.
 *
 * <p>Errors ({@link UsageException}, {@link SpankerException}) become a Karaf {@link CommandException} whose
 * "nice help" is the one-line message: Karaf prints exactly that line on the session's console (no "Error
 * executing command" prefix, no stack trace, logged at debug level only) and ssh exec / {@code bin/client}
 * end with exit status 1. The message is not written to the session's error stream because Karaf 4.4.10's
 * ssh exec reports the exit status before it flushes that stream, so {@code bin/client} and
 * {@code ssh ... 'spanker:pick ...'} would lose it. With {@code --json}, a domain error is the document
 * {@code {"error": {...}}} on the output instead, followed by the empty line Karaf prints for the (empty)
 * nice help.
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
        if (asksForHelp(words)) {
            printHelp(System.out, ansiTerminal(session));
            return null;
        }
        Failure failure = run(words, System.out, terminal(session));
        if (failure != null) {
            throw new CommandException(failure.printed() ? "" : failure.message(), failure.message());
        }
        return null;
    }

    static boolean asksForHelp(List<String> arguments) {
        return Help.requested(arguments);
    }

    /**
     * Whether the session prints to a terminal that understands ANSI. The nested session Karaf's {@code help}
     * opens to run {@code <command> --help} hands out a terminal wrapper whose terminal is missing, and that
     * wrapper throws: plain text, as for a pipe.
     */
    static boolean ansiTerminal(Session session) {
        try {
            return session != null && session.getTerminal() != null && session.getTerminal().isAnsiSupported();
        } catch (RuntimeException noTerminal) {
            return false;
        }
    }

    /**
     * The session's JLine terminal (Karaf keeps it in the session as {@code .jline.terminal}; its own terminal wraps
     * it too), or null when the session has none (a nested or headless session).
     */
    static CommandTerminal terminal(Session session) {
        if (session == null) {
            return null;
        }
        try {
            Object kept = session.get(".jline.terminal");
            if (kept instanceof org.jline.terminal.Terminal jline) {
                return JLineTerminal.of(jline);
            }
            return session.getTerminal() instanceof org.jline.terminal.Terminal jline ? JLineTerminal.of(jline) : null;
        } catch (RuntimeException noTerminal) {
            return null;
        }
    }

    /** The help in Karaf's layout, bold headings when {@code ansi}. */
    void printHelp(PrintStream out, boolean ansi) {
        KarafHelp.lines(spec, ansi).forEach(out::println);
        out.flush();
    }

    /** A command that failed: its one-line message, and whether the output already shows the error. */
    record Failure(String message, boolean printed) {
    }

    /**
     * Runs the command and prints its result, or, for {@code --json} and a domain error, the JSON error.
     *
     * @return {@code null} on success
     */
    Failure run(List<String> arguments, PrintStream out) {
        return run(arguments, out, null);
    }

    /** As {@link #run(List, PrintStream)}, the command's live output going to {@code terminal} (may be null). */
    Failure run(List<String> arguments, PrintStream out, CommandTerminal terminal) {
        if (asksForHelp(arguments)) {
            printHelp(out, false);
            return null;
        }
        CommandResult result = Results.run(command, arguments, terminal);
        ResultPrinter.print(result, out);
        String message = result.failed() ? Results.oneLine(result.errorMessage()) : null;
        return switch (result.status()) {
            case OK -> null;
            case USAGE_ERROR -> new Failure(qualifiedName() + ": " + message + " (see " + qualifiedName() + " --help)",
                    false);
            // with --json the error is printed already, as JSON
            case DOMAIN_ERROR -> new Failure(qualifiedName() + ": " + result.errorKind() + ": " + message,
                    result.isJson());
            // The shared Karaf JVM goes on; the user gets one line, not Karaf's stack trace.
            case INTERNAL_ERROR -> new Failure(qualifiedName() + ": internal error: "
                    + result.errorKind().substring(result.errorKind().lastIndexOf('.') + 1) + ": "
                    + result.errorMessage().lines().findFirst().orElse("") + " (a defect in Spanker; the command was stopped, nothing else is affected)", false);
        };
    }

    private String qualifiedName() {
        return ConsoleCommand.SCOPE + ":" + spec.name();
    }
}
