package org.popsolutions.spanker.console.support;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.popsolutions.spanker.api.console.Table;

/**
 * A result's rows, one fact per cell, rendered both ways from the same values: {@link #table()} (each column's
 * header, each number printed in its column's unit) and {@link #json()} (one object per row, keyed by the columns'
 * keys, numbers as numbers). A cell is text, a number, a boolean or null (nothing to say): a value the user can type
 * (an enum, a cabling, an algorithm) is spelled once, by the caller, so both renderings carry the same word.
 */
public final class Rows {
    private final String key;
    private final String title;
    private final List<Column> columns;
    private final List<Object[]> rows = new ArrayList<>();

    /**
     * @param key the rows' member in the JSON document
     * @param title the table's title
     */
    public Rows(String key, String title, Column... columns) {
        this.key = key;
        this.title = title;
        this.columns = List.of(columns);
    }

    public String key() {
        return key;
    }

    public List<Column> columns() {
        return columns;
    }

    public int size() {
        return rows.size();
    }

    /** Adds a row: one value per column, in column order. */
    public Rows add(Object... values) {
        if (values.length != columns.size()) {
            throw new IllegalArgumentException(title + ": " + values.length + " values for " + columns.size()
                    + " columns " + columns.stream().map(Column::key).toList());
        }
        for (int i = 0; i < values.length; i++) {
            Object v = values[i];
            if (v != null && !(v instanceof String || v instanceof Number || v instanceof Boolean)) {
                throw new IllegalArgumentException(title + ", column " + columns.get(i).key() + ": a cell is text,"
                        + " a number or a boolean, not " + v.getClass().getSimpleName() + " (spell it once, as the"
                        + " user types it)");
            }
            if (v instanceof Number n && !(n instanceof Integer || n instanceof Long || n instanceof Double
                    || n instanceof Float || n instanceof BigInteger || n instanceof Short || n instanceof Byte)) {
                throw new IllegalArgumentException(title + ", column " + columns.get(i).key() + ": unsupported number "
                        + n.getClass().getSimpleName());
            }
        }
        rows.add(Arrays.copyOf(values, values.length));
        return this;
    }

    /** The value in row {@code row} under {@code key}. */
    public Object value(int row, String key) {
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).key().equals(key)) {
                return rows.get(row)[i];
            }
        }
        throw new IllegalArgumentException(title + " has no column " + key);
    }

    /** The table: each column's header, every cell printed in its column's unit. */
    public Table table() {
        List<String> headers = columns.stream().map(Column::header).toList();
        List<List<String>> cells = new ArrayList<>(rows.size());
        for (Object[] row : rows) {
            List<String> line = new ArrayList<>(row.length);
            for (int i = 0; i < row.length; i++) {
                line.add(columns.get(i).unit().format(row[i]));
            }
            cells.add(line);
        }
        return new Table(title, headers, cells);
    }

    /** The JSON rows: one object per row, its members the columns' keys in column order. */
    public List<Map<String, Object>> json() {
        List<Map<String, Object>> list = new ArrayList<>(rows.size());
        for (Object[] row : rows) {
            Map<String, Object> object = new LinkedHashMap<>();
            for (int i = 0; i < row.length; i++) {
                object.put(columns.get(i).key(), row[i]);
            }
            list.add(object);
        }
        return list;
    }
}
