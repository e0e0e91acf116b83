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
    MARK,
    /** A number printed with one decimal (12.3), as nccl-tests prints times in µs. */
    FIXED_1,
    /** A number printed with two decimals (1.05), as ratios are. */
    FIXED_2,
    /** A number printed with three decimals (0.123), as nccl-tests prints GB/s. */
    FIXED_3,
    /** A boolean printed as {@code yes} or {@code no} (whether a rule holds). */
    YES_NO,
    /** A fraction printed as a percentage with no decimals (0.25 → 25%). */
    PERCENT;

    /** The value as a table cell. */
    public String format(Object value) {
        if (value == null) {
            return "-";
        }
        if (this == MARK) {
            return Boolean.TRUE.equals(value) ? "*" : "";
        }
        if (this == YES_NO && value instanceof Boolean b) {
            return b ? "yes" : "no";
        }
        if (value instanceof java.util.List<?> list) {
            // a list's elements in this unit, as the user reads a buffer: "1, 2.5, 3"
            StringBuilder text = new StringBuilder();
            for (Object element : list) {
                text.append(text.length() == 0 ? "" : ", ").append(format(element));
            }
            return "[" + text + "]";
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
            case FIXED_1 -> fixed(number.doubleValue(), 1);
            case FIXED_2 -> fixed(number.doubleValue(), 2);
            case FIXED_3 -> fixed(number.doubleValue(), 3);
            case PERCENT -> String.format(Locale.ROOT, "%.0f%%", 100 * number.doubleValue());
            case MARK, YES_NO -> throw new IllegalStateException("unreachable");
        };
    }

    private static String plain(Number number) {
        if (number instanceof Float f) {
            // as the float itself prints (0.1, not the double 0.10000000149011612), which is how JSON carries it
            return Float.isFinite(f) && f == Math.rint(f) && Math.abs(f) < 1e15 ? String.valueOf((long) (float) f)
                    : String.valueOf(f);
        }
        if (number instanceof Double) {
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

    private static String fixed(double value, int decimals) {
        return Double.isFinite(value) ? String.format(Locale.ROOT, "%." + decimals + "f", value) : String.valueOf(value);
    }

    public static String scientific(double value) {
        return Double.isFinite(value) ? String.format(Locale.ROOT, "%.3e", value) : String.valueOf(value);
    }

    /** An unsigned 64-bit quantity as a number JSON can carry whole. */
    public static BigInteger unsigned(long value) {
        return new BigInteger(Long.toUnsignedString(value));
    }
}
