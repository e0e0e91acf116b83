package org.popsolutions.spanker.shell.internal;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.console.CommandSpec;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;

/**
 * A command's help in the layout of Karaf's own commands (DESCRIPTION, SYNTAX, ARGUMENTS, OPTIONS; names with
 * their scope, eight-column indents, "(defaults to ...)"), so {@code spanker:topology --help} and
 * {@code help spanker:topology} read like {@code bundle:list --help}. Headings are bold on a terminal, as
 * Karaf's are; plain when the output is a pipe or a file.
 */
final class KarafHelp {
    private static final String BOLD = "\u001B[1m";
    private static final String NORMAL = "\u001B[0m";
    private static final String INDENT = "        ";
    private static final String DETAIL_INDENT = INDENT + INDENT;

    private KarafHelp() {
    }

    static List<String> lines(CommandSpec spec, boolean ansi) {
        String bold = ansi ? BOLD : "";
        String normal = ansi ? NORMAL : "";
        String qualified = ConsoleCommand.SCOPE + ":" + spec.name();
        List<String> lines = new ArrayList<>();
        lines.add(bold + "DESCRIPTION" + normal);
        lines.add(INDENT + ConsoleCommand.SCOPE + ":" + bold + spec.name() + normal);
        lines.add("");
        lines.add("\t" + spec.description());
        lines.add("");
        StringBuilder syntax = new StringBuilder(qualified);
        if (!spec.options().isEmpty()) {
            syntax.append(" [options]");
        }
        spec.arguments().forEach(argument -> syntax.append(' ').append(argument));
        lines.add(bold + "SYNTAX" + normal);
        lines.add(INDENT + syntax);
        lines.add("");
        if (!spec.arguments().isEmpty()) {
            lines.add(bold + "ARGUMENTS" + normal);
            for (String argument : spec.arguments()) {
                lines.add(INDENT + bold + argument + normal);
                lines.add(DETAIL_INDENT + (PathCompletion.isPathArgument(argument) ? "a file path" : argument));
            }
            lines.add("");
        }
        if (!spec.options().isEmpty()) {
            lines.add(bold + "OPTIONS" + normal);
            for (OptionSpec option : spec.options()) {
                String head = "--" + option.name() + (option.name().equals("help") ? ", -h" : "");
                lines.add(INDENT + bold + head + normal);
                lines.add(DETAIL_INDENT + option.description() + valueHint(option));
                if (option.defaultValue() != null) {
                    lines.add(DETAIL_INDENT + "(defaults to " + option.defaultValue() + ")");
                }
            }
            lines.add("");
        }
        return lines;
    }

    /** What the option takes, where the name alone does not say it: its value's name or its choices. */
    private static String valueHint(OptionSpec option) {
        if (option.isFlag()) {
            return "";
        }
        if (!option.choices().isEmpty()) {
            return " (" + String.join("|", option.choices()) + ")";
        }
        return " (" + option.valueName() + ")";
    }
}
