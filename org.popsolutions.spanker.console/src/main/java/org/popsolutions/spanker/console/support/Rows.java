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
 * keys, numbers as numbers). A cell is text, a number, a boolean, a list of numbers or texts (an array of them), or
 * null (nothing to say): a value the user can type (an enum, a cabling, an algorithm) is spelled once, by the caller,
 * so both renderings carry the same word. How the rows sit in the JSON document is their {@link Layout}.
 */
public final class Rows {
    /** How the rows appear in the JSON document (the table is the same for every layout). */
    public enum Layout {
        /** A list of objects, one per row, keyed by the columns' keys. */
        OBJECTS,
        /**
         * An object keyed by the first column's values (text); each member is the row's second column's value when
         * there are two columns, else an object of the other columns.
         */
        MAP,
        /** A list of the second column's values; the first column is each row's position in the list (0, 1, ...). */
        VALUES,
        /** Exactly one row, whose columns are members of the enclosing JSON object (the document itself). */
        FIELDS
    }

    private final String key;
    private final String title;
    private final List<Column> columns;
    private final List<Object[]> rows = new ArrayList<>();
    private Layout layout = Layout.OBJECTS;

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

    /** Lays the rows out in JSON as {@code layout} says (checked against the rows when they are rendered). */
    public Rows as(Layout layout) {
        if ((layout == Layout.MAP || layout == Layout.VALUES) && columns.size() < 2
                || layout == Layout.VALUES && columns.size() != 2) {
            throw new IllegalArgumentException(title + ": a " + layout + " layout needs "
                    + (layout == Layout.VALUES ? "two columns" : "at least two columns"));
        }
        this.layout = layout;
        return this;
    }

    public Layout layout() {
        return layout;
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
            values[i] = cell(columns.get(i), values[i]);
        }
        rows.add(Arrays.copyOf(values, values.length));
        return this;
    }

    /** A cell checked; an array or a list becomes an unmodifiable list of its (checked) elements. */
    private Object cell(Column column, Object v) {
        if (v != null && v.getClass().isArray()) {
            int length = java.lang.reflect.Array.getLength(v);
            List<Object> list = new ArrayList<>(length);
            for (int i = 0; i < length; i++) {
                list.add(java.lang.reflect.Array.get(v, i));
            }
            v = list;
        }
        if (v instanceof List<?> list) {
            List<Object> elements = new ArrayList<>(list.size());
            for (Object element : list) {
                if (element == null || element instanceof List<?> || element.getClass().isArray()) {
                    throw new IllegalArgumentException(title + ", column " + column.key() + ": a list's elements"
                            + " are texts, numbers or booleans");
                }
                elements.add(cell(column, element));
            }
            return java.util.Collections.unmodifiableList(elements);
        }
        if (v != null && !(v instanceof String || v instanceof Number || v instanceof Boolean)) {
            throw new IllegalArgumentException(title + ", column " + column.key() + ": a cell is text,"
                    + " a number, a boolean or a list of them, not " + v.getClass().getSimpleName() + " (spell it"
                    + " once, as the user types it)");
        }
        if (v instanceof Number n && !(n instanceof Integer || n instanceof Long || n instanceof Double
                || n instanceof Float || n instanceof BigInteger || n instanceof Short || n instanceof Byte)) {
            throw new IllegalArgumentException(title + ", column " + column.key() + ": unsupported number "
                    + n.getClass().getSimpleName());
        }
        return v;
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
        return table(rows.size());
    }

    /** The table of the first {@code shown} rows (a preview of long rows; JSON carries them all). */
    public Table table(int shown) {
        List<String> headers = columns.stream().map(Column::header).toList();
        List<List<String>> cells = new ArrayList<>(rows.size());
        for (int r = 0; r < Math.min(shown, rows.size()); r++) {
            cells.add(cells(r));
        }
        return new Table(title, headers, cells);
    }

    /** Row {@code row}'s cells as the table prints them (for rows printed one by one as they are measured). */
    public List<String> cells(int row) {
        Object[] values = rows.get(row);
        List<String> line = new ArrayList<>(values.length);
        for (int i = 0; i < values.length; i++) {
            line.add(columns.get(i).unit().format(values[i]));
        }
        return line;
    }

    /**
     * The rows as their layout puts them in JSON: a list of objects ({@link Layout#OBJECTS}), an object keyed by the
     * first column ({@link Layout#MAP}), a list of values ({@link Layout#VALUES}) or the one row's members
     * ({@link Layout#FIELDS}).
     */
    public Object jsonValue() {
        return switch (layout) {
            case OBJECTS -> json();
            case MAP -> {
                Map<String, Object> map = new LinkedHashMap<>();
                for (Map<String, Object> row : json()) {
                    Object name = row.remove(columns.get(0).key());
                    if (!(name instanceof String text) || map.containsKey(text)) {
                        throw new IllegalStateException(title + ": a MAP layout's first column holds distinct texts,"
                                + " not " + name);
                    }
                    map.put(text, columns.size() == 2 ? row.values().iterator().next() : row);
                }
                yield map;
            }
            case VALUES -> {
                List<Object> values = new ArrayList<>(rows.size());
                for (int r = 0; r < rows.size(); r++) {
                    if (!(rows.get(r)[0] instanceof Number n) || n.longValue() != r) {
                        throw new IllegalStateException(title + ": a VALUES layout's first column is the row's"
                                + " position, row " + r + " has " + rows.get(r)[0]);
                    }
                    values.add(rows.get(r)[1]);
                }
                yield values;
            }
            case FIELDS -> {
                if (rows.size() != 1) {
                    throw new IllegalStateException(title + ": a FIELDS layout has one row, not " + rows.size());
                }
                yield json().get(0);
            }
        };
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
