package org.popsolutions.spanker.serve.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.popsolutions.spanker.serve.jinja.Py.Callable;
import org.popsolutions.spanker.serve.jinja.Py.Undefined;

/**
 * The Python methods chat templates call on values ({@code content.strip()}, {@code message.get('x')},
 * {@code name.startswith('<')}), and the filters ({@code | trim}) and tests ({@code is defined}) they apply. Read
 * only, as Hugging Face's sandbox is: no method changes a value.
 */
final class Methods {
    private Methods() {
    }

    static Callable of(Object self, String name) {
        if (self instanceof String s) {
            return string(s, name);
        }
        if (self instanceof Map<?, ?> m) {
            return switch (name) {
                case "items" -> (a, k) -> items(m);
                case "keys" -> (a, k) -> new ArrayList<>(m.keySet());
                case "values" -> (a, k) -> new ArrayList<>(m.values());
                case "get" -> (a, k) -> {
                    arity("get", a, 1, 2);
                    return m.containsKey(a.get(0)) ? m.get(a.get(0)) : a.size() > 1 ? a.get(1) : null;
                };
                default -> null;
            };
        }
        return null;
    }

    private static List<Object> items(Map<?, ?> m) {
        List<Object> pairs = new ArrayList<>();
        m.forEach((key, value) -> {
            List<Object> pair = new ArrayList<>();
            pair.add(key);
            pair.add(value);
            pairs.add(pair);
        });
        return pairs;
    }

    private static Callable string(String s, String name) {
        return switch (name) {
            case "strip" -> (a, k) -> strip(s, chars("strip", a), true, true);
            case "lstrip" -> (a, k) -> strip(s, chars("lstrip", a), true, false);
            case "rstrip" -> (a, k) -> strip(s, chars("rstrip", a), false, true);
            case "upper" -> (a, k) -> s.toUpperCase(Locale.ROOT);
            case "lower" -> (a, k) -> s.toLowerCase(Locale.ROOT);
            case "title" -> (a, k) -> title(s);
            case "capitalize" -> (a, k) -> capitalize(s);
            case "startswith" -> (a, k) -> {
                arity(name, a, 1, 1);
                return anyOf(a.get(0), name).stream().anyMatch(s::startsWith);
            };
            case "endswith" -> (a, k) -> {
                arity(name, a, 1, 1);
                return anyOf(a.get(0), name).stream().anyMatch(s::endsWith);
            };
            case "split" -> (a, k) -> split(s, a);
            case "replace" -> (a, k) -> {
                arity(name, a, 2, 2);
                return s.replace(text(a.get(0), name), text(a.get(1), name));
            };
            case "find" -> (a, k) -> {
                arity(name, a, 1, 1);
                return (long) s.indexOf(text(a.get(0), name));
            };
            case "join" -> (a, k) -> {
                arity(name, a, 1, 1);
                return join(Py.iterate(a.get(0)), s);
            };
            default -> null;
        };
    }

    static String join(List<Object> items, String separator) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < items.size(); i++) {
            b.append(i == 0 ? "" : separator).append(Py.str(items.get(i)));
        }
        return b.toString();
    }

    private static List<String> anyOf(Object prefix, String method) {
        if (prefix instanceof List<?> l) {
            return l.stream().map(o -> text(o, method)).toList();
        }
        return List.of(text(prefix, method));
    }

    private static String chars(String method, List<Object> args) {
        arity(method, args, 0, 1);
        return args.isEmpty() || args.get(0) == null ? null : text(args.get(0), method);
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int from = 0;
        int to = s.length();
        while (left && from < to && (chars == null ? Character.isWhitespace(s.charAt(from))
                : chars.indexOf(s.charAt(from)) >= 0)) {
            from++;
        }
        while (right && to > from && (chars == null ? Character.isWhitespace(s.charAt(to - 1))
                : chars.indexOf(s.charAt(to - 1)) >= 0)) {
            to--;
        }
        return s.substring(from, to);
    }

    private static List<Object> split(String s, List<Object> args) {
        arity("split", args, 0, 2);
        List<Object> out = new ArrayList<>();
        if (args.isEmpty() || args.get(0) == null) {
            for (String part : s.strip().split("\\s+")) {
                if (!part.isEmpty()) {
                    out.add(part);
                }
            }
            return out;
        }
        String separator = text(args.get(0), "split");
        if (separator.isEmpty()) {
            throw new TemplateError("split: empty separator");
        }
        out.addAll(List.of(s.split(Pattern.quote(separator), -1)));
        return out;
    }

    static String title(String s) {
        StringBuilder b = new StringBuilder();
        boolean start = true;
        for (char c : s.toCharArray()) {
            b.append(start ? Character.toUpperCase(c) : Character.toLowerCase(c));
            start = !Character.isLetter(c);
        }
        return b.toString();
    }

    static String capitalize(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
    }

    static String text(Object v, String where) {
        if (v instanceof String s) {
            return s;
        }
        throw new TemplateError(where + ": expected a string, got " + Py.typeName(v));
    }

    static void arity(String name, List<Object> args, int min, int max) {
        if (args.size() < min || args.size() > max) {
            throw new TemplateError(name + " takes " + (min == max ? "" + min : min + " to " + max)
                    + " argument(s), " + args.size() + " given");
        }
    }

    static Object filter(String name, Object v, List<Object> args, Map<String, Object> kwargs) {
        switch (name) {
            case "trim":
                return strip(Py.str(v), args.isEmpty() ? null : text(args.get(0), name), true, true);
            case "upper":
                return Py.str(v).toUpperCase(Locale.ROOT);
            case "lower":
                return Py.str(v).toLowerCase(Locale.ROOT);
            case "capitalize":
                return capitalize(Py.str(v));
            case "title":
                return title(Py.str(v));
            case "length":
            case "count":
                return Py.length(v);
            case "string":
                return Py.str(v);
            case "safe":
            case "e":
            case "escape":
                // chat templates render plain text; there is no HTML to escape
                return v;
            case "list":
                return Py.iterate(v);
            case "first": {
                List<Object> items = Py.iterate(v);
                return items.isEmpty() ? new Undefined("first") : items.get(0);
            }
            case "last": {
                List<Object> items = Py.iterate(v);
                return items.isEmpty() ? new Undefined("last") : items.get(items.size() - 1);
            }
            case "reverse": {
                if (v instanceof String s) {
                    return new StringBuilder(s).reverse().toString();
                }
                List<Object> items = Py.iterate(v);
                java.util.Collections.reverse(items);
                return items;
            }
            case "join":
                return join(Py.iterate(v), args.isEmpty() ? "" : text(args.get(0), name));
            case "default":
            case "d": {
                boolean falsy = args.size() > 1 && Py.truthy(args.get(1));
                Object fallback = args.isEmpty() ? "" : args.get(0);
                return v instanceof Undefined || falsy && !Py.truthy(v) ? fallback : v;
            }
            case "replace":
                arity(name, args, 2, 2);
                return Py.str(v).replace(text(args.get(0), name), text(args.get(1), name));
            case "int":
                return toInt(v);
            case "float":
                return toFloat(v);
            case "abs":
                return v instanceof Long l ? (Object) Math.abs(l) : Math.abs((Double) toFloat(v));
            case "tojson": {
                Object indent = kwargs.getOrDefault("indent", args.isEmpty() ? null : args.get(0));
                return Py.json(v, indent instanceof Long l ? l : null, "");
            }
            case "items":
                if (v instanceof Map<?, ?> m) {
                    return items(m);
                }
                throw new TemplateError("items: expected a dict, got " + Py.typeName(v));
            case "selectattr":
            case "rejectattr":
                return selectAttribute(v, args, name.equals("selectattr"));
            case "map":
                return map(v, args, kwargs);
            case "indent":
                return indent(Py.str(v), args, kwargs);
            default:
                throw new TemplateError("unknown filter '" + name + "'");
        }
    }

    private static Object toInt(Object v) {
        if (v instanceof Long) {
            return v;
        }
        if (v instanceof Double d) {
            return (long) (double) d;
        }
        if (v instanceof Boolean b) {
            return b ? 1L : 0L;
        }
        try {
            return Long.parseLong(Py.str(v).strip());
        } catch (NumberFormatException e) {
            return 0L;
        }
    }

    private static Object toFloat(Object v) {
        if (v instanceof Long l) {
            return (double) l;
        }
        if (v instanceof Double) {
            return v;
        }
        try {
            return Double.parseDouble(Py.str(v).strip());
        } catch (NumberFormatException e) {
            return 0.0;
        }
    }

    private static Object selectAttribute(Object v, List<Object> args, boolean keep) {
        arity("selectattr", args, 1, 3);
        String attribute = text(args.get(0), "selectattr");
        List<Object> out = new ArrayList<>();
        for (Object item : Py.iterate(v)) {
            Object value = Py.attribute(item, attribute);
            boolean pass = args.size() == 1 ? Py.truthy(value)
                    : test(text(args.get(1), "selectattr"), value, args.subList(2, args.size()));
            if (pass == keep) {
                out.add(item);
            }
        }
        return out;
    }

    private static Object map(Object v, List<Object> args, Map<String, Object> kwargs) {
        List<Object> out = new ArrayList<>();
        for (Object item : Py.iterate(v)) {
            if (kwargs.containsKey("attribute")) {
                Object value = Py.item(item, kwargs.get("attribute"));
                out.add(value instanceof Undefined && kwargs.containsKey("default") ? kwargs.get("default") : value);
            } else {
                arity("map", args, 1, Integer.MAX_VALUE);
                out.add(filter(text(args.get(0), "map"), item, args.subList(1, args.size()), Map.of()));
            }
        }
        return out;
    }

    private static Object indent(String s, List<Object> args, Map<String, Object> kwargs) {
        Object width = kwargs.getOrDefault("width", args.isEmpty() ? 4L : args.get(0));
        boolean first = Py.truthy(kwargs.getOrDefault("first", args.size() > 1 ? args.get(1) : false));
        String pad = width instanceof String w ? w : " ".repeat((int) (long) (Long) toInt(width));
        String[] lines = s.split("\n", -1);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            boolean indentIt = (i > 0 || first) && !lines[i].isEmpty();
            b.append(i == 0 ? "" : "\n").append(indentIt ? pad : "").append(lines[i]);
        }
        return b.toString();
    }

    static boolean test(String name, Object v, List<Object> args) {
        switch (name) {
            case "defined":
                return !(v instanceof Undefined);
            case "undefined":
                return v instanceof Undefined;
            case "none":
                return v == null;
            case "string":
                return v instanceof String;
            case "number":
                return v instanceof Long || v instanceof Double;
            case "integer":
                return v instanceof Long;
            case "float":
                return v instanceof Double;
            case "boolean":
                return v instanceof Boolean;
            case "true":
                return Boolean.TRUE.equals(v);
            case "false":
                return Boolean.FALSE.equals(v);
            case "mapping":
                return v instanceof Map || v instanceof Py.Namespace;
            case "sequence":
            case "iterable":
                return v instanceof List || v instanceof String || v instanceof Map;
            case "callable":
                return v instanceof Callable;
            case "even":
                return v instanceof Long l && l % 2 == 0;
            case "odd":
                return v instanceof Long l && l % 2 != 0;
            case "divisibleby":
                arity(name, args, 1, 1);
                return v instanceof Long l && args.get(0) instanceof Long d && d != 0 && l % d == 0;
            case "eq":
            case "equalto":
            case "==":
                arity(name, args, 1, 1);
                return Py.eq(v, args.get(0));
            case "ne":
            case "!=":
                arity(name, args, 1, 1);
                return !Py.eq(v, args.get(0));
            case "in":
                arity(name, args, 1, 1);
                return Py.contains(args.get(0), v);
            default:
                throw new TemplateError("unknown test '" + name + "'");
        }
    }

    /** The globals a chat template may call besides its variables. */
    static Map<String, Object> globals() {
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("raise_exception", (Callable) (a, k) -> {
            throw new TemplateError(a.isEmpty() ? "raise_exception() without a message" : Py.str(a.get(0)), true);
        });
        g.put("namespace", (Callable) (a, k) -> {
            Py.Namespace ns = new Py.Namespace();
            for (Object o : a) {
                if (o instanceof Map<?, ?> m) {
                    m.forEach((key, value) -> ns.attributes.put(String.valueOf(key), value));
                }
            }
            ns.attributes.putAll(k);
            return ns;
        });
        g.put("range", (Callable) (a, k) -> {
            arity("range", a, 1, 3);
            for (Object o : a) {
                if (!(o instanceof Long)) {
                    throw new TemplateError("range: expected integers, got " + Py.typeName(o));
                }
            }
            long start = a.size() == 1 ? 0 : (Long) a.get(0);
            long stop = (Long) a.get(a.size() == 1 ? 0 : 1);
            long step = a.size() == 3 ? (Long) a.get(2) : 1;
            if (step == 0) {
                throw new TemplateError("range: step must not be zero");
            }
            List<Object> out = new ArrayList<>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
                if (out.size() > 100_000) {
                    throw new TemplateError("range: more than 100000 values");
                }
                out.add(i);
            }
            return out;
        });
        return g;
    }
}
