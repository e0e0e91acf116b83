package org.popsolutions.spanker.console.support;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.popsolutions.spanker.api.console.CommandSpec;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;

/** A command line parsed against a {@link CommandSpec}; typed getters report bad values as usage errors. */
public final class Arguments {
    private final String command;
    private final Map<String, String> values;
    private final List<String> positionals;

    private Arguments(String command, Map<String, String> values, List<String> positionals) {
        this.command = command;
        this.values = values;
        this.positionals = positionals;
    }

    /**
     * Accepts {@code --name value}, {@code --name=value} and flags; a lone {@code --} ends the options.
     *
     * @throws UsageException for an unknown option, a missing value, a value given to a flag, a value
     *         outside an option's choices, or a repeated option
     */
    public static Arguments parse(CommandSpec spec, List<String> raw) {
        Map<String, OptionSpec> byName = new LinkedHashMap<>();
        for (OptionSpec option : spec.options()) {
            byName.put(option.name(), option);
        }
        Map<String, String> values = new LinkedHashMap<>();
        List<String> positionals = new ArrayList<>();
        boolean optionsEnded = false;
        for (int i = 0; i < raw.size(); i++) {
            String token = raw.get(i);
            if (optionsEnded || !token.startsWith("--")) {
                positionals.add(token);
                continue;
            }
            if (token.equals("--")) {
                optionsEnded = true;
                continue;
            }
            String name = token.substring(2);
            String inlineValue = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                inlineValue = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            OptionSpec option = byName.get(name);
            if (option == null) {
                throw new UsageException("unknown option --" + name + " for '" + spec.name() + "'; known options: "
                        + String.join(", ", byName.keySet().stream().map(n -> "--" + n).toList()));
            }
            if (values.containsKey(name)) {
                throw new UsageException("option --" + name + " given twice");
            }
            String value;
            if (option.isFlag()) {
                if (inlineValue != null) {
                    throw new UsageException("option --" + name + " is a flag and takes no value");
                }
                value = "true";
            } else if (inlineValue != null) {
                value = inlineValue;
            } else if (i + 1 < raw.size() && !raw.get(i + 1).startsWith("--")) {
                value = raw.get(++i);
            } else if (i + 1 < raw.size()) {
                // "--model --context 5" is a forgotten value far more often than a file named "--context".
                throw new UsageException("option --" + name + " needs a value (" + option.valueName() + "), got the "
                        + "option " + raw.get(i + 1) + "; write --" + name + "=VALUE for a value that starts with --");
            } else {
                throw new UsageException("option --" + name + " needs a value (" + option.valueName() + ")");
            }
            if (!option.choices().isEmpty()) {
                String normalized = value.toLowerCase(Locale.ROOT);
                if (!option.choices().contains(normalized)) {
                    throw new UsageException("option --" + name + " must be one of " + String.join("|", option.choices())
                            + ", got '" + value + "'");
                }
                value = normalized;
            }
            values.put(name, value);
        }
        if (positionals.size() > spec.arguments().size()) {
            throw new UsageException("'" + spec.name() + "' takes " + describeArity(spec) + ", got unexpected '"
                    + positionals.get(spec.arguments().size()) + "'");
        }
        return new Arguments(spec.name(), values, positionals);
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
