package org.popsolutions.spanker.api.config;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.Map;
import org.popsolutions.spanker.api.InvalidConfigurationException;

/**
 * The properties Config Admin handed a component, read with the rules every Spanker PID shares: a number may be
 * given as a number or as text ({@code 2000000000}, {@code 2e9}, {@code 2_000_000_000}, {@code 1.6e9}); a value
 * that does not parse, is not whole where a count is expected, or lies outside its range is refused with an
 * {@link InvalidConfigurationException} naming the PID, the property, the rule and the value. A missing property
 * takes its default. Components read their configuration through this rather than through a typed annotation,
 * because Declarative Services would otherwise fail the activation silently on a value that does not coerce.
 *
 * @param pid the configuration PID, for messages
 * @param properties the component properties as Config Admin delivered them
 */
public record ConfigProperties(String pid, Map<String, ?> properties) {
    public ConfigProperties {
        properties = Map.copyOf(properties);
    }

    /** A whole number within {@code [min, max]}. */
    public long longWithin(String name, long defaultValue, long min, long max) {
        Object raw = properties.get(name);
        if (raw == null) {
            return defaultValue;
        }
        BigDecimal value = decimal(name, raw, "a whole number");
        BigDecimal whole;
        try {
            whole = value.stripTrailingZeros();
            if (whole.scale() > 0) {
                throw refuse(name, raw, "a whole number");
            }
        } catch (ArithmeticException e) {
            throw refuse(name, raw, "a whole number");
        }
        if (whole.compareTo(BigDecimal.valueOf(min)) < 0 || whole.compareTo(BigDecimal.valueOf(max)) > 0) {
            throw refuse(name, raw, "a whole number within " + min + ".." + max);
        }
        return whole.longValueExact();
    }

    /** A whole number within {@code [min, max]}. */
    public int intWithin(String name, int defaultValue, int min, int max) {
        return (int) longWithin(name, defaultValue, min, max);
    }

    /** A finite number within {@code [min, max]}. */
    public double doubleWithin(String name, double defaultValue, double min, double max) {
        Object raw = properties.get(name);
        if (raw == null) {
            return defaultValue;
        }
        double value = decimal(name, raw, "a number").doubleValue();
        if (!(value >= min && value <= max)) {
            throw refuse(name, raw, "a number within " + min + ".." + max);
        }
        return value;
    }

    /** One of {@code choices}, case-insensitively; returned upper-case. */
    public String choice(String name, String defaultValue, String... choices) {
        Object raw = properties.get(name);
        if (raw == null) {
            return defaultValue;
        }
        String value = String.valueOf(raw).trim().toUpperCase(Locale.ROOT);
        for (String choice : choices) {
            if (choice.equalsIgnoreCase(value)) {
                return choice.toUpperCase(Locale.ROOT);
            }
        }
        throw refuse(name, raw, "one of " + String.join(", ", choices));
    }

    /** Free text, trimmed; a list (Config Admin's multi-value) is joined with commas. */
    public String string(String name, String defaultValue) {
        Object raw = properties.get(name);
        if (raw == null) {
            return defaultValue;
        }
        if (raw instanceof String[] values) {
            return String.join(",", values).trim();
        }
        if (raw instanceof java.util.Collection<?> values) {
            return String.join(",", values.stream().map(String::valueOf).toList()).trim();
        }
        return String.valueOf(raw).trim();
    }

    /** Whether the properties came from a configuration (Config Admin adds {@code service.pid}), not defaults. */
    public boolean configured() {
        return properties.containsKey("service.pid");
    }

    private BigDecimal decimal(String name, Object raw, String expected) {
        if (raw instanceof Double d && !Double.isFinite(d) || raw instanceof Float f && !Float.isFinite(f)) {
            throw refuse(name, raw, expected);
        }
        String text = String.valueOf(raw).trim().replace("_", "");
        try {
            return new BigDecimal(text);
        } catch (NumberFormatException e) {
            throw refuse(name, raw, expected);
        }
    }

    private InvalidConfigurationException refuse(String name, Object raw, String expected) {
        return new InvalidConfigurationException("configuration " + pid + ": property " + name + " must be " + expected
                + ", got '" + raw + "'");
    }
}
