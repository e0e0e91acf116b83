package org.popsolutions.spanker.api.console;

import java.util.List;

/**
 * One {@code --name} option of a console command.
 *
 * @param valueName placeholder for the option's value in help text; {@code null} for a flag without value
 * @param choices the allowed values (completed by the shell), empty when free-form
 * @param defaultValue shown in help; {@code null} when the option has no default
 */
public record OptionSpec(String name, String description, String valueName, List<String> choices,
        String defaultValue) {
    public OptionSpec {
        choices = List.copyOf(choices);
    }

    public boolean isFlag() {
        return valueName == null;
    }

    public static OptionSpec flag(String name, String description) {
        return new OptionSpec(name, description, null, List.of(), null);
    }

    public static OptionSpec value(String name, String valueName, String description, String defaultValue) {
        return new OptionSpec(name, description, valueName, List.of(), defaultValue);
    }

    public static OptionSpec choice(String name, List<String> choices, String description, String defaultValue) {
        return new OptionSpec(name, description, "VALUE", choices, defaultValue);
    }
}
