package org.popsolutions.spanker.console.support;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.CommandSpec;
import org.popsolutions.spanker.api.console.CommandTerminal;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;

/**
 * Base of a console command: adds the options every command has ({@code --json}, {@code --no-format},
 * {@code --help}), parses the raw arguments and renders the {@link Report} the way the user asked.
 */
public abstract class AbstractConsoleCommand implements ConsoleCommand {
    public static final OptionSpec JSON = OptionSpec.flag("json", "print one JSON document instead of tables");
    public static final OptionSpec NO_FORMAT = OptionSpec.flag("no-format", "plain tables without borders");
    public static final OptionSpec HELP = OptionSpec.flag("help", "show this help");

    private final CommandSpec spec;

    protected AbstractConsoleCommand(String name, String description, List<OptionSpec> options,
            List<String> arguments) {
        List<OptionSpec> all = new ArrayList<>(options);
        all.add(JSON);
        all.add(NO_FORMAT);
        all.add(HELP);
        this.spec = new CommandSpec(name, description, all, arguments);
    }

    protected AbstractConsoleCommand(String name, String description, List<OptionSpec> options) {
        this(name, description, options, List.of());
    }

    @Override
    public final CommandSpec spec() {
        return spec;
    }

    @Override
    public final CommandResult execute(List<String> rawArguments) {
        return execute(rawArguments, null);
    }

    @Override
    public final CommandResult execute(List<String> rawArguments, CommandTerminal terminal) {
        Arguments arguments = Arguments.parse(spec, rawArguments).in(terminal);
        if (arguments.flag(HELP.name())) {
            return new CommandResult(List.of(), Help.lines(spec), null, true);
        }
        Report report = run(arguments);
        if (arguments.flag(JSON.name())) {
            return new CommandResult(List.of(), List.of(), Json.write(report.json()), true);
        }
        return new CommandResult(report.tables(), report.lines(), null, !arguments.flag(NO_FORMAT.name()));
    }

    /** Does the work; throws {@code UsageException} for a bad command line, a {@code SpankerException} otherwise. */
    protected abstract Report run(Arguments arguments);
}
