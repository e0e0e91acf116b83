package org.popsolutions.spanker.console.support;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.console.CommandSpec;
import org.popsolutions.spanker.api.console.OptionSpec;

/** Help text of a command, from its spec. */
public final class Help {
    private Help() {
    }

    public static List<String> lines(CommandSpec spec) {
        List<String> lines = new ArrayList<>();
        StringBuilder usage = new StringBuilder("usage: ").append(spec.name());
        spec.arguments().forEach(a -> usage.append(' ').append(a));
        usage.append(" [options]");
        lines.add(spec.description());
        lines.add(usage.toString());
        lines.add("options:");
        for (OptionSpec option : spec.options()) {
            String head = "  --" + option.name() + (option.isFlag() ? ""
                    : " " + (option.choices().isEmpty() ? option.valueName() : String.join("|", option.choices())));
            String tail = option.description() + (option.defaultValue() == null ? "" : " (default " + option.defaultValue() + ")");
            lines.add(String.format("%-32s %s", head, tail));
        }
        return lines;
    }
}
