package org.popsolutions.spanker.launcher;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.CommandSpec;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.console.support.Help;
import org.popsolutions.spanker.console.support.JLineTerminal;
import org.popsolutions.spanker.console.support.Results;
import org.popsolutions.spanker.console.support.TextTables;

/**
 * Runs one console command, {@code spanker <command> [options]}, on an embedded Felix and maps the outcome to an
 * exit status (see {@link ExitStatus}). Nothing escapes as a stack trace: every failure is one readable line.
 */
public final class Launcher {
    private final Settings settings;
    private final PrintStream out;
    private final PrintStream err;
    private final java.util.function.Supplier<JLineTerminal> terminals;

    /**
     * @param bundleDirectory the bundles to install
     * @param timeout how long a command may take to be registered after the framework started
     * @param settle after how long without new registrations the set of commands counts as complete
     * @param verbose show framework/SCR messages and bundle start failures on {@code err}
     */
    public record Settings(Path bundleDirectory, Duration timeout, Duration settle, boolean verbose) {
    }

    /** A launcher whose commands run without a terminal (nothing live is drawn): tests, embedding. */
    public Launcher(Settings settings, PrintStream out, PrintStream err) {
        this(settings, out, err, () -> null);
    }

    /** {@code terminals} gives each command the terminal it runs in (closed after it), or null for none. */
    public Launcher(Settings settings, PrintStream out, PrintStream err,
            java.util.function.Supplier<JLineTerminal> terminals) {
        this.settings = settings;
        this.out = out;
        this.err = err;
        this.terminals = terminals;
    }

    /** Runs {@code arguments} and returns the process exit status. */
    public int run(List<String> arguments) {
        try {
            return dispatch(arguments);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("internal error: interrupted");
            return ExitStatus.INTERNAL_ERROR;
        } catch (Throwable e) { // NOPMD: the contract is one line and exit status 3, never a stack trace
            err.println("internal error: " + describe(e));
            return ExitStatus.INTERNAL_ERROR;
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int dispatch(List<String> arguments) throws Exception {
        if (arguments.isEmpty()) {
            return withCatalog(catalog -> {
                err.println("error: no command given");
                printUsage(catalog.all(), err);
                return ExitStatus.USAGE_ERROR;
            });
        }
        String first = arguments.get(0);
        if (first.equals("--help") || first.equals("-h") || (first.equals("help") && arguments.size() == 1)) {
            return withCatalog(catalog -> {
                printUsage(catalog.all(), out);
                return ExitStatus.OK;
            });
        }
        if (first.equals("--version") || first.equals("-V") || first.equals("version") && arguments.size() == 1) {
            out.println(version());
            return ExitStatus.OK;
        }
        if (first.equals("help")) {
            if (arguments.size() > 2) {
                err.println("error: 'help' takes one command name, got '" + String.join(" ", arguments.subList(1,
                        arguments.size())) + "'; try 'spanker help " + arguments.get(1) + "'");
                return ExitStatus.USAGE_ERROR;
            }
            // "help <command>" is "<command> --help".
            return runCommand(arguments.get(1), List.of("--help"));
        }
        if (first.startsWith("-")) {
            return withCatalog(catalog -> {
                err.println("error: expected a command before the options, got '" + first + "'");
                printUsage(catalog.all(), err);
                return ExitStatus.USAGE_ERROR;
            });
        }
        return runCommand(first, arguments.subList(1, arguments.size()));
    }

    private int runCommand(String name, List<String> givenArguments) throws Exception {
        DeviceChoice device;
        try {
            device = DeviceChoice.take(givenArguments);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return ExitStatus.USAGE_ERROR;
        }
        List<String> commandArguments = device.rest();
        return withCatalog(device, catalog -> {
            Optional<ConsoleCommand> found = catalog.find(name);
            if (found.isEmpty()) {
                err.println("error: unknown command '" + name + "'");
                printUsage(catalog.all(), err);
                return ExitStatus.USAGE_ERROR;
            }
            ConsoleCommand command = found.get();
            if (Help.requested(commandArguments)) {
                Help.lines(command.spec(), "spanker " + name).forEach(out::println);
                return ExitStatus.OK;
            }
            JLineTerminal terminal = terminals.get();
            try {
                return render(Results.run(command, commandArguments, terminal), command.spec(), name, out, err);
            } finally {
                if (terminal != null) {
                    terminal.close();
                }
            }
        });
    }

    /**
     * Prints a command's result — its output on {@code out}, a failure as one line on {@code err} (a usage error
     * with the command's help) — and returns the exit status the result carries.
     */
    static int render(CommandResult result, CommandSpec spec, String name, PrintStream out, PrintStream err) {
        TextTables.print(result, out);
        switch (result.status()) {
            case DOMAIN_ERROR -> err.println("error: " + result.errorKind() + ": "
                    + Results.oneLine(result.errorMessage()));
            case USAGE_ERROR -> {
                err.println("error: " + Results.oneLine(result.errorMessage()));
                Help.lines(spec, "spanker " + name).forEach(err::println);
            }
            case INTERNAL_ERROR -> err.println("internal error: " + result.errorKind() + ": "
                    + Results.oneLine(result.errorMessage()));
            case OK -> {
                // the output is all there is
            }
        }
        return result.status().exitStatus();
    }

    private interface CatalogAction {
        int apply(CommandCatalog catalog) throws Exception;
    }

    private int withCatalog(CatalogAction action) throws Exception {
        return withCatalog(DeviceChoice.MOCK, action);
    }

    private int withCatalog(DeviceChoice device, CatalogAction action) throws Exception {
        try (EmbeddedFelix felix = EmbeddedFelix.start(settings.bundleDirectory(), settings.verbose() ? err : null,
                device.frameworkProperties(), device.leftOutBundles());
                CommandCatalog catalog = new CommandCatalog(felix.context(), settings.timeout(), settings.settle())) {
            int status = action.apply(catalog);
            if (status == ExitStatus.USAGE_ERROR && !felix.startFailures().isEmpty() && !settings.verbose()) {
                err.println("note: " + felix.startFailures().size()
                        + " bundle(s) did not start, so some commands may be missing (SPANKER_DEBUG=1 shows why)");
            }
            return status;
        }
    }

    /** The launcher's version (from its jar's manifest) and the Java running it. */
    static String version() {
        String own = Launcher.class.getPackage().getImplementationVersion();
        return "spanker " + (own == null ? "(development build)" : own) + " on Java "
                + Runtime.version().feature() + " (" + System.getProperty("java.vm.name") + " "
                + System.getProperty("java.runtime.version") + ")";
    }

    private static void printUsage(SortedMap<String, CommandSpec> commands, PrintStream stream) {
        stream.println("usage: spanker <command> [options]");
        stream.println("Runs one Spanker command on an embedded OSGi framework (Apache Felix) with the mock device.");
        stream.println();
        if (commands.isEmpty()) {
            stream.println("no commands are registered (SPANKER_DEBUG=1 shows why)");
        } else {
            stream.println("commands:");
            int width = commands.keySet().stream().mapToInt(String::length).max().orElse(0);
            for (Map.Entry<String, CommandSpec> command : commands.entrySet()) {
                stream.println("  " + pad(command.getKey(), width) + "  " + command.getValue().description());
            }
        }
        stream.println();
        stream.println("'spanker <command> --help' lists a command's options; every command accepts --json and");
        stream.println("--device mock|sails (default mock; sails drives the running fleet, or --endpoints host:port,...).");
        stream.println("exit status: 0 success, 1 domain error, 2 usage error, 3 internal error.");
    }

    private static String pad(String text, int width) {
        return text + " ".repeat(Math.max(0, width - text.length()));
    }

    /** One line: the exception type when it is not a plain message, and its message. */
    private static String describe(Throwable e) {
        String type = e.getClass().getName();
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            return type;
        }
        boolean plain = e instanceof IllegalStateException || e instanceof java.io.IOException;
        return (plain ? "" : type + ": ") + EmbeddedFelix.oneLine(e);
    }
}
