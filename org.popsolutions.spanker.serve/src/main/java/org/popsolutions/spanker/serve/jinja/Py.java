package org.popsolutions.spanker.serve.jinja;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Values as Jinja (Python) sees them: None is {@code null}, integers {@link Long}, floats {@link Double}, strings,
 * booleans, lists, string-keyed maps, {@link Undefined}, {@link Namespace} and {@link Callable}s; truth, equality,
 * ordering, arithmetic and printing follow Python's rules for those types.
 */
final class Py {
    private Py() {
    }

    /** A name or key that is not there: prints as nothing, is false, iterates as empty; anything more is an error. */
    record Undefined(String name) {
        @Override
        public String toString() {
            return "";
        }
    }

    /** {@code namespace(...)}: the one object a template may change from inside a loop. */
    static final class Namespace {
        final Map<String, Object> attributes = new LinkedHashMap<>();
    }

    interface Callable {
        Object call(List<Object> args, Map<String, Object> kwargs);
    }

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Long l) {
            return l != 0;
        }
        if (v instanceof Double d) {
            return d != 0;
        }
        if (v instanceof String s) {
            return !s.isEmpty();
        }
        if (v instanceof List<?> l) {
            return !l.isEmpty();
        }
        if (v instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        return true;
    }

    static String str(Object v) {
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Undefined) {
            return "";
        }
        return repr(v);
    }

    static String repr(Object v) {
        if (v == null) {
            return "None";
        }
        if (v instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (v instanceof Double d) {
            if (d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 1e16) {
                return String.format(Locale.ROOT, "%.1f", d);
            }
            return Double.isNaN(d) ? "nan" : Double.isInfinite(d) ? (d > 0 ? "inf" : "-inf") : Double.toString(d);
        }
        if (v instanceof String s) {
            return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'";
        }
        if (v instanceof List<?> l) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < l.size(); i++) {
                b.append(i == 0 ? "" : ", ").append(repr(l.get(i)));
            }
            return b.append(']').toString();
        }
        if (v instanceof Map<?, ?> m) {
            StringBuilder b = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                b.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                first = false;
            }
            return b.append('}').toString();
        }
        if (v instanceof Undefined) {
            return "";
        }
        return String.valueOf(v);
    }

    static String typeName(Object v) {
        if (v == null) {
            return "None";
        }
        if (v instanceof Undefined u) {
            return "undefined ('" + u.name() + "')";
        }
        if (v instanceof Boolean) {
            return "bool";
        }
        if (v instanceof Long) {
            return "int";
        }
        if (v instanceof Double) {
            return "float";
        }
        if (v instanceof String) {
            return "str";
        }
        if (v instanceof List) {
            return "list";
        }
        if (v instanceof Map) {
            return "dict";
        }
        if (v instanceof Namespace) {
            return "namespace";
        }
        return "function";
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    private static double asDouble(Object v) {
        return v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).doubleValue();
    }

    private static long asLong(Object v) {
        return v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).longValue();
    }

    private static boolean integral(Object a, Object b) {
        return !(a instanceof Double) && !(b instanceof Double);
    }

    static boolean eq(Object a, Object b) {
        if (a instanceof Undefined || b instanceof Undefined) {
            return a instanceof Undefined && b instanceof Undefined;
        }
        if (isNumber(a) && isNumber(b)) {
            return asDouble(a) == asDouble(b);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!eq(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return Objects.equals(a, b);
    }

    static int compare(Object a, Object b, String op) {
        if (isNumber(a) && isNumber(b)) {
            return Double.compare(asDouble(a), asDouble(b));
        }
        if (a instanceof String x && b instanceof String y) {
            return x.compareTo(y);
        }
        throw new TemplateError("'" + op + "' is not supported between " + typeName(a) + " and " + typeName(b));
    }

    static Object arithmetic(String op, Object a, Object b) {
        if (op.equals("+") && a instanceof String x && b instanceof String y) {
            return x + y;
        }
        if (op.equals("+") && a instanceof List<?> x && b instanceof List<?> y) {
            List<Object> joined = new ArrayList<>(x);
            joined.addAll(y);
            return joined;
        }
        if (op.equals("*") && a instanceof String s && (b instanceof Long n)) {
            return s.repeat((int) Math.max(0, n));
        }
        if (!isNumber(a) || !isNumber(b)) {
            throw new TemplateError("unsupported operand types for " + op + ": " + typeName(a) + " and "
                    + typeName(b));
        }
        boolean ints = integral(a, b);
        switch (op) {
            case "+":
                return ints ? (Object) (asLong(a) + asLong(b)) : asDouble(a) + asDouble(b);
            case "-":
                return ints ? (Object) (asLong(a) - asLong(b)) : asDouble(a) - asDouble(b);
            case "*":
                return ints ? (Object) (asLong(a) * asLong(b)) : asDouble(a) * asDouble(b);
            case "/":
                if (asDouble(b) == 0) {
                    throw new TemplateError("division by zero");
                }
                return asDouble(a) / asDouble(b);
            case "//":
                if (asDouble(b) == 0) {
                    throw new TemplateError("division by zero");
                }
                return ints ? (Object) Math.floorDiv(asLong(a), asLong(b)) : Math.floor(asDouble(a) / asDouble(b));
            case "%":
                if (asDouble(b) == 0) {
                    throw new TemplateError("modulo by zero");
                }
                if (ints) {
                    return Math.floorMod(asLong(a), asLong(b));
                }
                double m = asDouble(a) % asDouble(b);
                return m != 0 && (m < 0) != (asDouble(b) < 0) ? m + asDouble(b) : m;
            case "**":
                return ints && asLong(b) >= 0 ? (Object) (long) Math.pow(asLong(a), asLong(b))
                        : Math.pow(asDouble(a), asDouble(b));
            default:
                throw new TemplateError("unknown operator " + op);
        }
    }

    static Object negate(Object v) {
        if (v instanceof Long l) {
            return -l;
        }
        if (v instanceof Double d) {
            return -d;
        }
        throw new TemplateError("bad operand type for unary -: " + typeName(v));
    }

    static boolean contains(Object container, Object item) {
        if (container instanceof String s) {
            if (!(item instanceof String sub)) {
                throw new TemplateError("'in <string>' requires a string on the left, not " + typeName(item));
            }
            return s.contains(sub);
        }
        if (container instanceof Map<?, ?> m) {
            return m.containsKey(item);
        }
        if (container instanceof List<?> l) {
            for (Object o : l) {
                if (eq(o, item)) {
                    return true;
                }
            }
            return false;
        }
        if (container instanceof Undefined) {
            return false;
        }
        throw new TemplateError("argument of type " + typeName(container) + " is not iterable");
    }

    static List<Object> iterate(Object v) {
        if (v instanceof List<?> l) {
            return new ArrayList<>(l);
        }
        if (v instanceof Map<?, ?> m) {
            return new ArrayList<>(m.keySet());
        }
        if (v instanceof String s) {
            List<Object> chars = new ArrayList<>();
            s.codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
            return chars;
        }
        if (v instanceof Undefined) {
            return new ArrayList<>();
        }
        throw new TemplateError(typeName(v) + " is not iterable");
    }

    static long length(Object v) {
        if (v instanceof String s) {
            return s.codePointCount(0, s.length());
        }
        if (v instanceof List<?> l) {
            return l.size();
        }
        if (v instanceof Map<?, ?> m) {
            return m.size();
        }
        if (v instanceof Undefined) {
            return 0;
        }
        throw new TemplateError("object of type " + typeName(v) + " has no length");
    }

    /** {@code obj[key]}: negative list indices count from the end; a missing key or index is undefined. */
    static Object item(Object obj, Object key) {
        if (obj instanceof Map<?, ?> m) {
            return m.containsKey(key) ? m.get(key) : new Undefined(String.valueOf(key));
        }
        if (obj instanceof Namespace ns) {
            return ns.attributes.containsKey(key) ? ns.attributes.get(key) : new Undefined(String.valueOf(key));
        }
        if ((obj instanceof List || obj instanceof String) && key instanceof Long index) {
            List<Object> items = obj instanceof String ? iterate(obj) : null;
            int size = (int) (items == null ? ((List<?>) obj).size() : items.size());
            long i = index < 0 ? index + size : index;
            if (i < 0 || i >= size) {
                return new Undefined("[" + index + "]");
            }
            return items == null ? ((List<?>) obj).get((int) i) : items.get((int) i);
        }
        if (obj instanceof Undefined u) {
            throw new TemplateError("'" + u.name() + "' is undefined (asked for its item " + repr(key) + ")");
        }
        if (key instanceof String name) {
            return attribute(obj, name);
        }
        throw new TemplateError(typeName(obj) + " has no item " + repr(key));
    }

    /** {@code obj.name}: a map's key, or one of Python's string, dict and list methods. */
    static Object attribute(Object obj, String name) {
        if (obj instanceof Map<?, ?> m && m.containsKey(name)) {
            return m.get(name);
        }
        if (obj instanceof Namespace ns) {
            return ns.attributes.containsKey(name) ? ns.attributes.get(name) : new Undefined(name);
        }
        if (obj instanceof Undefined u) {
            throw new TemplateError("'" + u.name() + "' is undefined (asked for its attribute '" + name + "')");
        }
        Callable method = Methods.of(obj, name);
        if (method != null) {
            return method;
        }
        if (obj instanceof Map) {
            return new Undefined(name);
        }
        throw new TemplateError(typeName(obj) + " has no attribute '" + name + "'");
    }

    /** Python's slice {@code [start:stop:step]} of a list or string. */
    static Object slice(Object obj, Object start, Object stop, Object step) {
        List<Object> items = iterate(obj);
        int n = items.size();
        long by = step == null ? 1 : asIndex(step);
        if (by == 0) {
            throw new TemplateError("slice step cannot be zero");
        }
        List<Object> out = new ArrayList<>();
        if (by > 0) {
            long from = bound(start, 0, n, false);
            long to = bound(stop, n, n, false);
            for (long i = from; i < to; i += by) {
                out.add(items.get((int) i));
            }
        } else {
            long from = bound(start, n - 1, n, true);
            long to = stop == null ? -1 : bound(stop, -1, n, true);
            for (long i = from; i > to; i += by) {
                out.add(items.get((int) i));
            }
        }
        if (obj instanceof String) {
            StringBuilder b = new StringBuilder();
            out.forEach(b::append);
            return b.toString();
        }
        return out;
    }

    private static long bound(Object v, long fallback, int n, boolean backwards) {
        if (v == null) {
            return fallback;
        }
        long i = asIndex(v);
        if (i < 0) {
            i += n;
        }
        return backwards ? Math.max(-1, Math.min(i, n - 1)) : Math.max(0, Math.min(i, n));
    }

    private static long asIndex(Object v) {
        if (v instanceof Long l) {
            return l;
        }
        throw new TemplateError("slice indices must be integers or none, not " + typeName(v));
    }

    /** Python's json.dumps as Hugging Face's {@code tojson} calls it: ", " and ": " separators, non-ASCII kept. */
    static String json(Object v, Long indent, String pad) {
        if (v == null || v instanceof Undefined) {
            return "null";
        }
        if (v instanceof Boolean b) {
            return b ? "true" : "false";
        }
        if (v instanceof Long || v instanceof Double) {
            return repr(v);
        }
        if (v instanceof String s) {
            StringBuilder b = new StringBuilder("\"");
            for (char c : s.toCharArray()) {
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    case '\b' -> b.append("\\b");
                    case '\f' -> b.append("\\f");
                    default -> {
                        if (c < 0x20) {
                            b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                        } else {
                            b.append(c);
                        }
                    }
                }
            }
            return b.append('"').toString();
        }
        String inner = indent == null ? null : pad + " ".repeat(indent.intValue());
        String separator = indent == null ? ", " : ",";
        if (v instanceof List<?> l) {
            if (l.isEmpty()) {
                return "[]";
            }
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < l.size(); i++) {
                b.append(i == 0 ? "" : separator).append(inner == null ? "" : "\n" + inner)
                        .append(json(l.get(i), indent, inner));
            }
            return b.append(inner == null ? "" : "\n" + pad).append(']').toString();
        }
        Map<?, ?> m = v instanceof Namespace ns ? ns.attributes : v instanceof Map<?, ?> map ? map : null;
        if (m == null) {
            throw new TemplateError("object of type " + typeName(v) + " is not JSON serializable");
        }
        if (m.isEmpty()) {
            return "{}";
        }
        StringBuilder b = new StringBuilder("{");
        Iterator<? extends Map.Entry<?, ?>> entries = m.entrySet().iterator();
        boolean first = true;
        while (entries.hasNext()) {
            Map.Entry<?, ?> e = entries.next();
            b.append(first ? "" : separator).append(inner == null ? "" : "\n" + inner)
                    .append(json(String.valueOf(e.getKey()), null, "")).append(": ")
                    .append(json(e.getValue(), indent, inner));
            first = false;
        }
        return b.append(inner == null ? "" : "\n" + pad).append('}').toString();
    }
}
