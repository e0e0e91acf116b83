package org.popsolutions.spanker.console.internal;

import java.math.BigInteger;
import java.util.Locale;

/** Human-readable quantities for tables; JSON always carries the raw numbers. */
final class Units {
    private Units() {
    }

    static String bytes(long bytes) {
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
    static String rate(long bytesPerSecond) {
        if (bytesPerSecond >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2f GB/s", bytesPerSecond / 1e9);
        }
        return String.format(Locale.ROOT, "%.0f MB/s", bytesPerSecond / 1e6);
    }

    static String seconds(double seconds) {
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

    /** An unsigned 64-bit quantity as a JSON number. */
    static BigInteger unsigned(long value) {
        return new BigInteger(Long.toUnsignedString(value));
    }

    static String decimal(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? String.valueOf((long) value)
                : String.format(Locale.ROOT, "%.4g", value);
    }

    static String scientific(double value) {
        return Double.isFinite(value) ? String.format(Locale.ROOT, "%.3e", value) : String.valueOf(value);
    }
}
