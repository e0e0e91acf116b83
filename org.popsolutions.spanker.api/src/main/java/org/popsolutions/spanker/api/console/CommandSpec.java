package org.popsolutions.spanker.api.console;

import java.util.List;

/**
 * The shape of a console command: its name (without scope), one-line description, options, and
 * positional arguments.
 */
public record CommandSpec(String name, String description, List<OptionSpec> options, List<String> arguments) {
    public CommandSpec {
        options = List.copyOf(options);
        arguments = List.copyOf(arguments);
    }
}
