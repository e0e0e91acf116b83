package org.popsolutions.spanker.console.internal;

import java.math.BigInteger;
import org.popsolutions.spanker.console.support.Unit;

/** Human-readable quantities for tables; JSON always carries the raw numbers. */
final class Units {
    private Units() {
    }

    static String bytes(long bytes) {
        return Unit.bytes(bytes);
    }

    /** Decimal units, as link rates are quoted. */
    static String rate(long bytesPerSecond) {
        return Unit.rate(bytesPerSecond);
    }

    static String seconds(double seconds) {
        return Unit.seconds(seconds);
    }

    /** An unsigned 64-bit quantity as a JSON number. */
    static BigInteger unsigned(long value) {
        return Unit.unsigned(value);
    }

    static String decimal(double value) {
        return Unit.decimal(value);
    }

    static String scientific(double value) {
        return Unit.scientific(value);
    }
}
