package org.popsolutions.spanker.console.support;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.console.CommandSpec;
import org.popsolutions.spanker.api.console.OptionSpec;

/** Help text of a command, from its spec. */
public final class Help {
    private Help() {
    }

    private static final int OPTION_COLUMN = 32;

    /**
     * Whether a command line asks for help: {@code --help} or {@code -h} anywhere before a lone {@code --}, as
     * every surface (launcher, Karaf shell) and users of other tools expect.
     */
    public static boolean requested(List<String> arguments) {
        for (String argument : arguments) {
            if (argument.equals("--")) {
                return false;
            }
            if (argument.equals("--help") || argument.equals("-h")) {
                return true;
            }
        }
        return false;
    }

    public static List<String> lines(CommandSpec spec) {
        return lines(spec, spec.name());
    }

    /**
     * @param invokedAs how the user calls the command on this surface ({@code spanker:pick} in Karaf,
     *        {@code spanker pick} in the launcher)
     */
    public static List<String> lines(CommandSpec spec, String invokedAs) {
        List<String> lines = new ArrayList<>();
        StringBuilder usage = new StringBuilder("usage: ").append(invokedAs);
        spec.arguments().forEach(a -> usage.append(' ').append(a));
        usage.append(" [options]");
        lines.add(spec.description());
        lines.add(usage.toString());
        lines.add("options:");
        for (OptionSpec option : spec.options()) {
            String head = "  --" + option.name() + (option.isFlag() ? ""
                    : " " + (option.choices().isEmpty() ? option.valueName() : String.join("|", option.choices())));
            String tail = option.description() + (option.defaultValue() == null ? "" : " (default " + option.defaultValue() + ")");
            if (head.length() >= OPTION_COLUMN) {
                // A long list of choices gets a line of its own rather than pushing the description out of line.
                lines.add(head);
                lines.add(" ".repeat(OPTION_COLUMN + 1) + tail);
            } else {
                lines.add(String.format("%-" + OPTION_COLUMN + "s %s", head, tail));
            }
        }
        return lines;
    }
}
