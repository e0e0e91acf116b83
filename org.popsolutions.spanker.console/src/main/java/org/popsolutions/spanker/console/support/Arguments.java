package org.popsolutions.spanker.console.support;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.popsolutions.spanker.api.console.CommandSpec;
import org.popsolutions.spanker.api.console.CommandTerminal;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import picocli.CommandLine;

/** A command line parsed against a {@link CommandSpec}; typed getters report bad values as usage errors. */
public final class Arguments {
    private final String command;
    private final Map<String, String> values;
    private final List<String> positionals;
    private final CommandTerminal terminal;

    private Arguments(String command, Map<String, String> values, List<String> positionals,
            CommandTerminal terminal) {
        this.command = command;
        this.values = values;
        this.positionals = positionals;
        this.terminal = terminal;
    }

    /** The same command line, run in {@code terminal} (null: none). */
    public Arguments in(CommandTerminal terminal) {
        return new Arguments(command, values, positionals, terminal);
    }

    /** The terminal the command runs in (its live output goes there); null when the surface gave none. */
    public CommandTerminal terminal() {
        return terminal;
    }

    /**
     * Accepts {@code --name value}, {@code --name=value} and flags; a lone {@code --} ends the options. picocli does
     * the tokenizing (from a picocli model of {@code spec}); this keeps the platform's rules on top of it: a value
     * that starts with {@code --} must be attached with {@code =}, and choices are matched ignoring case.
     *
     * @throws UsageException for an unknown option, a missing value, a value given to a flag, a value
     *         outside an option's choices, or a repeated option
     */
    public static Arguments parse(CommandSpec spec, List<String> raw) {
        Map<String, OptionSpec> byName = new LinkedHashMap<>();
        for (OptionSpec option : spec.options()) {
            byName.put(option.name(), option);
        }
        refuseAmbiguousValues(byName, raw);
        CommandLine.ParseResult parsed;
        try {
            parsed = commandLine(spec).parseArgs(raw.toArray(String[]::new));
        } catch (CommandLine.OverwrittenOptionException e) {
            String name = e.getOverwritten() instanceof CommandLine.Model.OptionSpec option ? option.longestName()
                    : e.getOverwritten().paramLabel();
            throw new UsageException("option " + name + " given twice");
        } catch (CommandLine.UnmatchedArgumentException e) {
            String unmatched = e.getUnmatched().isEmpty() ? "" : e.getUnmatched().get(0);
            if (unmatched.startsWith("--")) {
                throw new UsageException("unknown option " + unmatched.replaceFirst("=.*", "") + " for '"
                        + spec.name() + "'; known options: " + String.join(", ",
                                byName.keySet().stream().map(n -> "--" + n).toList()));
            }
            throw new UsageException("'" + spec.name() + "' takes " + describeArity(spec) + ", got unexpected '"
                    + unmatched + "'");
        } catch (CommandLine.ParameterException e) {
            throw new UsageException(e.getMessage());
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (CommandLine.Model.OptionSpec matched : parsed.matchedOptions()) {
            String name = matched.longestName().substring(2);
            OptionSpec option = byName.get(name);
            values.put(name, option.isFlag() ? "true" : checkedChoice(option, matched.getValue()));
        }
        List<String> positionals = new ArrayList<>();
        for (CommandLine.Model.PositionalParamSpec matched : parsed.matchedPositionals()) {
            positionals.add(matched.getValue());
        }
        return new Arguments(spec.name(), values, positionals, null);
    }

    /** picocli's model of a command line: every option long-only, one value or none, positionals optional. */
    private static CommandLine commandLine(CommandSpec spec) {
        CommandLine.Model.CommandSpec model = CommandLine.Model.CommandSpec.create().name(spec.name());
        for (OptionSpec option : spec.options()) {
            model.addOption(CommandLine.Model.OptionSpec.builder("--" + option.name())
                    .arity(option.isFlag() ? "0" : "1")
                    .type(option.isFlag() ? boolean.class : String.class)
                    .paramLabel(valueLabel(option))
                    .description(option.description()
                            + (option.defaultValue() == null ? "" : " (default " + option.defaultValue() + ")"))
                    .build());
        }
        for (int i = 0; i < spec.arguments().size(); i++) {
            model.addPositional(CommandLine.Model.PositionalParamSpec.builder().index(String.valueOf(i)).arity("0..1")
                    .type(String.class).paramLabel(spec.arguments().get(i)).build());
        }
        model.usageMessage().description(spec.description()).abbreviateSynopsis(true).sortOptions(false)
                .width(HELP_WIDTH);
        // "@file" is a path on this platform, never a file of more arguments
        return new CommandLine(model).setExpandAtFiles(false).setOverwrittenOptionsAllowed(false)
                .setAllowOptionsAsOptionParameters(true).setUnmatchedArgumentsAllowed(false);
    }

    static final int HELP_WIDTH = 100;

    /** The help text of {@code spec} invoked as {@code invokedAs}, as picocli lays it out. */
    static String usage(CommandSpec spec, String invokedAs) {
        CommandLine line = commandLine(spec);
        line.getCommandSpec().name(invokedAs);
        return line.getUsageMessage(CommandLine.Help.Ansi.OFF);
    }

    static String valueLabel(OptionSpec option) {
        return option.isFlag() ? "" : option.choices().isEmpty() ? option.valueName() : String.join("|",
                option.choices());
    }

    /**
     * The platform's rules picocli does not have: a flag takes no {@code =value}, and a separate value that starts
     * with {@code --} is taken for a forgotten value ("--model --context 5" is that far more often than a file named
     * "--context"), so such a value must be attached with {@code =}.
     */
    private static void refuseAmbiguousValues(Map<String, OptionSpec> byName, List<String> raw) {
        for (int i = 0; i < raw.size(); i++) {
            String token = raw.get(i);
            if (token.equals("--")) {
                return;
            }
            if (!token.startsWith("--")) {
                continue;
            }
            int eq = token.indexOf('=');
            OptionSpec option = byName.get(eq > 2 ? token.substring(2, eq) : token.substring(2));
            if (option == null) {
                continue;
            }
            if (option.isFlag() && eq > 2) {
                throw new UsageException("option --" + option.name() + " is a flag and takes no value");
            }
            if (!option.isFlag() && eq < 0) {
                if (i + 1 >= raw.size()) {
                    throw new UsageException("option --" + option.name() + " needs a value (" + valueLabel(option)
                            + ")");
                }
                if (raw.get(i + 1).startsWith("--")) {
                    throw new UsageException("option --" + option.name() + " needs a value (" + valueLabel(option)
                            + "), got the option " + raw.get(i + 1) + "; write --" + option.name()
                            + "=VALUE for a value that starts with --");
                }
                i++;
            }
        }
    }

    private static String checkedChoice(OptionSpec option, String value) {
        if (option.choices().isEmpty()) {
            return value;
        }
        String normalized = value.toLowerCase(Locale.ROOT);
        if (!option.choices().contains(normalized)) {
            throw new UsageException("option --" + option.name() + " must be one of " + String.join("|",
                    option.choices()) + ", got '" + value + "'");
        }
        return normalized;
    }

    private static String describeArity(CommandSpec spec) {
        return spec.arguments().isEmpty() ? "no positional arguments"
                : "the arguments " + String.join(" ", spec.arguments());
    }

    public boolean flag(String name) {
        return values.containsKey(name);
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public Optional<String> string(String name) {
        return Optional.ofNullable(values.get(name));
    }

    public String requiredString(String name) {
        return string(name).orElseThrow(() -> new UsageException("'" + command + "' needs --" + name));
    }

    /** The positional argument at {@code index}, named {@code what} in the error when it is missing. */
    public String positional(int index, String what) {
        if (index >= positionals.size()) {
            throw new UsageException("'" + command + "' needs " + what);
        }
        return positionals.get(index);
    }

    public Optional<Integer> integer(String name) {
        return string(name).map(v -> parseInt(name, v));
    }

    public int integer(String name, int defaultValue) {
        return integer(name).orElse(defaultValue);
    }

    public int requiredInteger(String name) {
        return parseInt(name, requiredString(name));
    }

    /** A non-negative 64-bit unsigned quantity such as a dimension or a byte rate; accepts 1e9 and 64M forms. */
    public Optional<Long> unsignedLong(String name) {
        return string(name).map(v -> parseUnsigned(name, v));
    }

    /**
     * A byte count the platform keeps as a signed 64-bit number (card memory, buffer sizes): 1 to 2^63 − 1, given
     * in any form {@link #unsignedLong} accepts; 0 and larger values are usage errors naming the range.
     */
    public Optional<Long> byteCount(String name) {
        return string(name).map(text -> {
            long bytes = parseUnsigned(name, text);
            if (bytes <= 0) {
                throw new UsageException("option --" + name + " must be within 1.." + Long.MAX_VALUE + " bytes, got "
                        + text.trim());
            }
            return bytes;
        });
    }

    public long requiredUnsignedLong(String name) {
        return parseUnsigned(name, requiredString(name));
    }

    public Optional<Double> decimal(String name) {
        return string(name).map(v -> {
            try {
                return Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new UsageException("option --" + name + " must be a number, got '" + v + "'");
            }
        });
    }

    public <E extends Enum<E>> Optional<E> choice(String name, Class<E> type) {
        return string(name).map(v -> Enum.valueOf(type, v.toUpperCase(Locale.ROOT)));
    }

    private static int parseInt(String name, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("option --" + name + " must be an integer, got '" + value + "'");
        }
    }

    private static final long[] SUFFIX_MULTIPLIERS = {1L << 10, 1L << 20, 1L << 30, 1L << 40};

    static long parseUnsigned(String name, String value) {
        String v = value.trim();
        try {
            int suffix = "KMGT".indexOf(v.isEmpty() ? ' ' : Character.toUpperCase(v.charAt(v.length() - 1)));
            if (suffix >= 0) {
                long base = Long.parseLong(v.substring(0, v.length() - 1));
                long multiplier = SUFFIX_MULTIPLIERS[suffix];
                if (base < 0 || base > Long.MAX_VALUE / multiplier) {
                    throw new NumberFormatException();
                }
                return base * multiplier;
            }
            if (v.matches("[0-9]+")) {
                return Long.parseUnsignedLong(v);
            }
            double d = Double.parseDouble(v);
            if (!(d >= 0) || d >= 0x1p64 || d != Math.rint(d)) {
                throw new NumberFormatException();
            }
            return d >= 0x1p63 ? (long) (d - 0x1p63) ^ Long.MIN_VALUE : (long) d;
        } catch (NumberFormatException e) {
            throw new UsageException("option --" + name
                    + " must be a non-negative integer below 2^64 (e.g. 5632, 2e9, 64M), got '" + value + "'");
        }
    }
}
