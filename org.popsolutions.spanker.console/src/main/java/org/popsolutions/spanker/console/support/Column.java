package org.popsolutions.spanker.console.support;

import java.util.Objects;

/**
 * One column of a result's rows: the key its values have in JSON, the header people read over it in a table, and the
 * unit that says how a table prints its numbers.
 */
public record Column(String key, String header, Unit unit) {
    public Column {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(header, "header");
        Objects.requireNonNull(unit, "unit");
    }

    /** A column of text or plain numbers. */
    public static Column of(String key, String header) {
        return new Column(key, header, Unit.NONE);
    }

    public static Column of(String key, String header, Unit unit) {
        return new Column(key, header, unit);
    }
}
