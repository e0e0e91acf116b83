package org.popsolutions.spanker.console.support;

import java.math.BigInteger;
import java.util.Locale;

/**
 * What a number in a result measures, and so how a table prints it: JSON always carries the number itself (in the
 * unit the key names, e.g. {@code memoryBytes}), a table prints the same number the way people read it. A column's
 * unit is the one place that choice is made ({@link Rows}).
 */
public enum Unit {
    /** Text, a count or a plain number: printed as it is (whole numbers without a decimal point). */
    NONE,
    /** Bytes, printed in binary units (4.0 GiB). */
    BYTES,
    /** Bytes per second, in decimal units as link rates are quoted (500 MB/s, 2.00 GB/s). */
    BYTES_PER_SECOND,
    /** Seconds, printed in the unit that fits (1.00 µs, 12.3 ms). */
    SECONDS,
    /** A number printed with four significant digits. */
    DECIMAL,
    /** A number printed in scientific notation (1.234e-05). */
    SCIENTIFIC,
    /** A boolean printed as a mark: {@code *} when true, nothing when false (the active one of a list). */
    MARK;

    /** The value as a table cell. */
    public String format(Object value) {
        if (value == null) {
            return "-";
        }
        if (this == MARK) {
            return Boolean.TRUE.equals(value) ? "*" : "";
        }
        if (!(value instanceof Number number)) {
            return String.valueOf(value);
        }
        return switch (this) {
            case NONE -> plain(number);
            case BYTES -> bytes(number.longValue());
            case BYTES_PER_SECOND -> rate(number.doubleValue());
            case SECONDS -> seconds(number.doubleValue());
            case DECIMAL -> decimal(number.doubleValue());
            case SCIENTIFIC -> scientific(number.doubleValue());
            case MARK -> throw new IllegalStateException("unreachable");
        };
    }

    private static String plain(Number number) {
        if (number instanceof Double || number instanceof Float) {
            double d = number.doubleValue();
            return Double.isFinite(d) && d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf((long) d)
                    : String.valueOf(d);
        }
        return number.toString();
    }

    public static String bytes(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    /** Decimal units, as link rates are quoted. */
    public static String rate(double bytesPerSecond) {
        if (!Double.isFinite(bytesPerSecond)) {
            return String.valueOf(bytesPerSecond);
        }
        if (bytesPerSecond >= 1e9) {
            return String.format(Locale.ROOT, "%.2f GB/s", bytesPerSecond / 1e9);
        }
        return String.format(Locale.ROOT, "%.0f MB/s", bytesPerSecond / 1e6);
    }

    public static String seconds(double seconds) {
        if (Double.isInfinite(seconds) || Double.isNaN(seconds)) {
            return String.valueOf(seconds);
        }
        if (seconds == 0) {
            return "0 s";
        }
        if (seconds < 1e-6) {
            return String.format(Locale.ROOT, "%.3g ns", seconds * 1e9);
        }
        if (seconds < 1e-3) {
            return String.format(Locale.ROOT, "%.3g µs", seconds * 1e6);
        }
        if (seconds < 1) {
            return String.format(Locale.ROOT, "%.3g ms", seconds * 1e3);
        }
        return String.format(Locale.ROOT, "%.3g s", seconds);
    }

    public static String decimal(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? String.valueOf((long) value)
                : String.format(Locale.ROOT, "%.4g", value);
    }

    public static String scientific(double value) {
        return Double.isFinite(value) ? String.format(Locale.ROOT, "%.3e", value) : String.valueOf(value);
    }

    /** An unsigned 64-bit quantity as a number JSON can carry whole. */
    public static BigInteger unsigned(long value) {
        return new BigInteger(Long.toUnsignedString(value));
    }
}
