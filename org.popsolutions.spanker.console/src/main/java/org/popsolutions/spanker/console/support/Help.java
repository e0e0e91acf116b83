package org.popsolutions.spanker.console.support;

import java.util.List;
import org.popsolutions.spanker.api.console.CommandSpec;

/** Help text of a command, from its spec, laid out by picocli. */
public final class Help {
    private Help() {
    }

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
        return Arguments.usage(spec, invokedAs).lines().toList();
    }
}
