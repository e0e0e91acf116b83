package org.popsolutions.spanker.serve.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.popsolutions.spanker.serve.jinja.Py.Callable;
import org.popsolutions.spanker.serve.jinja.Py.Undefined;

/**
 * Jinja expressions: tokens, then a parser with Jinja's precedence (ternary {@code if else}, {@code or},
 * {@code and}, {@code not}, comparisons and {@code in}, {@code + -}, {@code ~}, {@code * / // %}, {@code **}, unary
 * minus, then primaries with {@code .attr}, {@code [item]}, slices, calls, {@code | filter} and {@code is test}).
 */
final class Expressions {
    private Expressions() {
    }

    /** An expression compiled to a closure over the render scope. */
    interface Expr {
        Object eval(Scope scope);
    }

    /** Variables of a render: a for loop's body gets its own (a {@code set} inside does not leak out). */
    static final class Scope {
        private final Map<String, Object> vars = new LinkedHashMap<>();
        private final Scope parent;

        Scope(Scope parent) {
            this.parent = parent;
        }

        Object get(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                if (s.vars.containsKey(name)) {
                    return s.vars.get(name);
                }
            }
            return new Undefined(name);
        }

        void set(String name, Object value) {
            vars.put(name, value);
        }
    }

    enum Type { NAME, STRING, INT, FLOAT, OP, END }

    record Token(Type type, String text, Object value) {
        boolean is(String op) {
            return (type == Type.OP || type == Type.NAME) && text.equals(op);
        }
    }

    private static final String[] OPERATORS = {"**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~",
        "|", ".", ",", ":", "(", ")", "[", "]", "{", "}", "<", ">", "="};

    static List<Token> tokens(String src, int line) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        while (i < src.length()) {
            char c = src.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (Character.isLetter(c) || c == '_') {
                int start = i;
                while (i < src.length() && (Character.isLetterOrDigit(src.charAt(i)) || src.charAt(i) == '_')) {
                    i++;
                }
                out.add(new Token(Type.NAME, src.substring(start, i), null));
            } else if (Character.isDigit(c)) {
                int start = i;
                while (i < src.length() && (Character.isDigit(src.charAt(i)) || src.charAt(i) == '_')) {
                    i++;
                }
                boolean fraction = i + 1 < src.length() && src.charAt(i) == '.' && Character.isDigit(src.charAt(i + 1));
                if (fraction) {
                    i++;
                    while (i < src.length() && Character.isDigit(src.charAt(i))) {
                        i++;
                    }
                }
                String digits = src.substring(start, i).replace("_", "");
                out.add(fraction ? new Token(Type.FLOAT, digits, Double.parseDouble(digits))
                        : new Token(Type.INT, digits, Long.parseLong(digits)));
            } else if (c == '\'' || c == '"') {
                StringBuilder s = new StringBuilder();
                i++;
                while (true) {
                    if (i >= src.length()) {
                        throw new TemplateError("line " + line + ": a string is never closed");
                    }
                    char d = src.charAt(i++);
                    if (d == c) {
                        break;
                    }
                    if (d == '\\' && i < src.length()) {
                        char e = src.charAt(i++);
                        switch (e) {
                            case 'n' -> s.append('\n');
                            case 't' -> s.append('\t');
                            case 'r' -> s.append('\r');
                            case 'u' -> {
                                if (i + 4 > src.length()) {
                                    throw new TemplateError("line " + line + ": a \\u escape needs 4 hex digits");
                                }
                                s.append((char) Integer.parseInt(src.substring(i, i + 4), 16));
                                i += 4;
                            }
                            case '\\', '\'', '"' -> s.append(e);
                            default -> s.append('\\').append(e);
                        }
                    } else {
                        s.append(d);
                    }
                }
                out.add(new Token(Type.STRING, s.toString(), s.toString()));
            } else {
                String op = null;
                for (String candidate : OPERATORS) {
                    if (src.startsWith(candidate, i)) {
                        op = candidate;
                        break;
                    }
                }
                if (op == null) {
                    throw new TemplateError("line " + line + ": unexpected character '" + c + "'");
                }
                out.add(new Token(Type.OP, op, null));
                i += op.length();
            }
        }
        out.add(new Token(Type.END, "end of tag", null));
        return out;
    }

    /** Parses one tag's tokens; the statement parser reads keywords around the expressions with the same cursor. */
    static final class Parser {
        final List<Token> tokens;
        final int line;
        int at;

        Parser(String src, int line) {
            this.tokens = tokens(src, line);
            this.line = line;
        }

        Token peek() {
            return tokens.get(at);
        }

        Token next() {
            return tokens.get(at++);
        }

        boolean accept(String op) {
            if (peek().is(op)) {
                at++;
                return true;
            }
            return false;
        }

        void expect(String op) {
            if (!accept(op)) {
                throw error("expected '" + op + "' but found '" + peek().text() + "'");
            }
        }

        String name() {
            Token t = next();
            if (t.type() != Type.NAME) {
                throw error("expected a name but found '" + t.text() + "'");
            }
            return t.text();
        }

        void end() {
            if (peek().type() != Type.END) {
                throw error("unexpected '" + peek().text() + "'");
            }
        }

        TemplateError error(String message) {
            return new TemplateError("line " + line + ": " + message);
        }

        Expr expression() {
            Expr value = or();
            if (accept("if")) {
                Expr condition = or();
                Expr otherwise = accept("else") ? expression() : s -> new Undefined("else");
                return s -> Py.truthy(condition.eval(s)) ? value.eval(s) : otherwise.eval(s);
            }
            return value;
        }

        /** An expression without the {@code a if b else c} form (a for loop's iterable: its "if" filters). */
        Expr or() {
            Expr left = and();
            while (accept("or")) {
                Expr l = left;
                Expr r = and();
                left = s -> {
                    Object v = l.eval(s);
                    return Py.truthy(v) ? v : r.eval(s);
                };
            }
            return left;
        }

        private Expr and() {
            Expr left = not();
            while (accept("and")) {
                Expr l = left;
                Expr r = not();
                left = s -> {
                    Object v = l.eval(s);
                    return Py.truthy(v) ? r.eval(s) : v;
                };
            }
            return left;
        }

        private Expr not() {
            if (accept("not")) {
                Expr e = not();
                return s -> !Py.truthy(e.eval(s));
            }
            return compare();
        }

        private Expr compare() {
            Expr left = math1();
            while (true) {
                Token t = peek();
                String op;
                if (t.is("==") || t.is("!=") || t.is("<") || t.is(">") || t.is("<=") || t.is(">=") || t.is("in")) {
                    op = next().text();
                } else if (t.is("not") && tokens.get(at + 1).is("in")) {
                    at += 2;
                    op = "not in";
                } else {
                    return left;
                }
                Expr l = left;
                Expr r = math1();
                left = s -> {
                    Object a = l.eval(s);
                    Object b = r.eval(s);
                    return switch (op) {
                        case "==" -> Py.eq(a, b);
                        case "!=" -> !Py.eq(a, b);
                        case "<" -> Py.compare(a, b, op) < 0;
                        case ">" -> Py.compare(a, b, op) > 0;
                        case "<=" -> Py.compare(a, b, op) <= 0;
                        case ">=" -> Py.compare(a, b, op) >= 0;
                        case "in" -> Py.contains(b, a);
                        default -> !Py.contains(b, a);
                    };
                };
            }
        }

        private Expr math1() {
            Expr left = concat();
            while (peek().is("+") || peek().is("-")) {
                String op = next().text();
                Expr l = left;
                Expr r = concat();
                left = s -> Py.arithmetic(op, l.eval(s), r.eval(s));
            }
            return left;
        }

        private Expr concat() {
            Expr left = math2();
            while (accept("~")) {
                Expr l = left;
                Expr r = math2();
                left = s -> Py.str(l.eval(s)) + Py.str(r.eval(s));
            }
            return left;
        }

        private Expr math2() {
            Expr left = power();
            while (peek().is("*") || peek().is("/") || peek().is("//") || peek().is("%")) {
                String op = next().text();
                Expr l = left;
                Expr r = power();
                left = s -> Py.arithmetic(op, l.eval(s), r.eval(s));
            }
            return left;
        }

        private Expr power() {
            Expr left = unary();
            while (accept("**")) {
                Expr l = left;
                Expr r = unary();
                left = s -> Py.arithmetic("**", l.eval(s), r.eval(s));
            }
            return left;
        }

        private Expr unary() {
            if (accept("-")) {
                Expr e = unary();
                return filters(s -> Py.negate(e.eval(s)));
            }
            if (accept("+")) {
                return unary();
            }
            return filters(postfix(primary()));
        }

        private Expr primary() {
            Token t = next();
            switch (t.type()) {
                case STRING: {
                    // adjacent literals join, as in Python
                    StringBuilder b = new StringBuilder(t.text());
                    while (peek().type() == Type.STRING) {
                        b.append(next().text());
                    }
                    String value = b.toString();
                    return s -> value;
                }
                case INT:
                case FLOAT: {
                    Object value = t.value();
                    return s -> value;
                }
                case NAME: {
                    switch (t.text()) {
                        case "true":
                        case "True":
                            return s -> Boolean.TRUE;
                        case "false":
                        case "False":
                            return s -> Boolean.FALSE;
                        case "none":
                        case "None":
                            return s -> null;
                        default:
                            String name = t.text();
                            return s -> s.get(name);
                    }
                }
                default:
                    break;
            }
            if (t.is("(")) {
                Expr e = expression();
                if (peek().is(",")) {
                    List<Expr> items = new ArrayList<>(List.of(e));
                    while (accept(",") && !peek().is(")")) {
                        items.add(expression());
                    }
                    expect(")");
                    return list(items);
                }
                expect(")");
                return e;
            }
            if (t.is("[")) {
                List<Expr> items = new ArrayList<>();
                while (!peek().is("]")) {
                    items.add(expression());
                    if (!accept(",")) {
                        break;
                    }
                }
                expect("]");
                return list(items);
            }
            if (t.is("{")) {
                List<Expr[]> entries = new ArrayList<>();
                while (!peek().is("}")) {
                    Expr key = expression();
                    expect(":");
                    entries.add(new Expr[] {key, expression()});
                    if (!accept(",")) {
                        break;
                    }
                }
                expect("}");
                return s -> {
                    Map<Object, Object> m = new LinkedHashMap<>();
                    for (Expr[] e : entries) {
                        m.put(e[0].eval(s), e[1].eval(s));
                    }
                    return m;
                };
            }
            throw error("unexpected '" + t.text() + "'");
        }

        private static Expr list(List<Expr> items) {
            return s -> {
                List<Object> out = new ArrayList<>();
                for (Expr e : items) {
                    out.add(e.eval(s));
                }
                return out;
            };
        }

        private Expr postfix(Expr base) {
            Expr e = base;
            while (true) {
                if (accept(".")) {
                    Expr target = e;
                    String name = name();
                    e = s -> Py.attribute(target.eval(s), name);
                } else if (accept("[")) {
                    Expr target = e;
                    Expr[] parts = new Expr[3];
                    int part = 0;
                    boolean sliced = false;
                    while (!peek().is("]")) {
                        if (accept(":")) {
                            sliced = true;
                            if (++part > 2) {
                                throw error("a slice has at most two ':'");
                            }
                        } else {
                            parts[part] = expression();
                        }
                    }
                    expect("]");
                    if (sliced) {
                        e = s -> Py.slice(target.eval(s), value(parts[0], s), value(parts[1], s), value(parts[2], s));
                    } else {
                        if (parts[0] == null) {
                            throw error("empty subscript []");
                        }
                        e = s -> Py.item(target.eval(s), parts[0].eval(s));
                    }
                } else if (peek().is("(")) {
                    next();
                    Expr target = e;
                    Arguments args = arguments();
                    e = s -> {
                        Object f = target.eval(s);
                        if (!(f instanceof Callable callable)) {
                            throw new TemplateError("line " + line + ": " + (f instanceof Undefined u
                                    ? "'" + u.name() + "' is undefined" : Py.typeName(f) + " is not callable"));
                        }
                        return callable.call(args.positional(s), args.named(s));
                    };
                } else {
                    return e;
                }
            }
        }

        private static Object value(Expr e, Scope s) {
            return e == null ? null : e.eval(s);
        }

        record Arguments(List<Expr> positional, Map<String, Expr> named) {
            List<Object> positional(Scope s) {
                List<Object> out = new ArrayList<>();
                for (Expr e : positional) {
                    out.add(e.eval(s));
                }
                return out;
            }

            Map<String, Object> named(Scope s) {
                Map<String, Object> out = new LinkedHashMap<>();
                named.forEach((k, e) -> out.put(k, e.eval(s)));
                return out;
            }
        }

        /** After the opening parenthesis: {@code a, b, key=value)}. */
        private Arguments arguments() {
            List<Expr> positional = new ArrayList<>();
            Map<String, Expr> named = new LinkedHashMap<>();
            while (!peek().is(")")) {
                if (peek().type() == Type.NAME && tokens.get(at + 1).is("=")) {
                    String key = next().text();
                    next();
                    named.put(key, expression());
                } else {
                    positional.add(expression());
                }
                if (!accept(",")) {
                    break;
                }
            }
            expect(")");
            return new Arguments(positional, named);
        }

        private Expr filters(Expr base) {
            Expr e = base;
            while (true) {
                if (accept("|")) {
                    Expr target = e;
                    String name = name();
                    Arguments args = accept("(") ? arguments() : new Arguments(List.of(), Map.of());
                    e = s -> {
                        try {
                            return Methods.filter(name, target.eval(s), args.positional(s), args.named(s));
                        } catch (TemplateError error) {
                            throw located(error);
                        }
                    };
                } else if (accept("is")) {
                    Expr target = e;
                    boolean negated = accept("not");
                    String name = peek().is("==") || peek().is("!=") ? next().text() : name();
                    List<Expr> args = new ArrayList<>();
                    if (accept("(")) {
                        args.addAll(arguments().positional());
                    } else if (peek().type() != Type.END && !peek().is(")") && !peek().is("and")
                            && !peek().is("or") && !peek().is("else") && !peek().is("if") && !peek().is(",")
                            && !peek().is("]") && !peek().is("}") && !peek().is(":") && peek().type() != Type.OP) {
                        args.add(postfix(primary()));
                    } else if (peek().type() != Type.END && (peek().type() == Type.STRING || peek().type() == Type.INT
                            || peek().type() == Type.FLOAT)) {
                        args.add(postfix(primary()));
                    }
                    e = s -> {
                        List<Object> values = new ArrayList<>();
                        for (Expr a : args) {
                            values.add(a.eval(s));
                        }
                        try {
                            return negated != Methods.test(name, target.eval(s), values);
                        } catch (TemplateError error) {
                            throw located(error);
                        }
                    };
                } else {
                    return e;
                }
            }
        }

        private TemplateError located(TemplateError error) {
            return error.raisedByTemplate() || error.getMessage().startsWith("line ") ? error
                    : new TemplateError("line " + line + ": " + error.getMessage());
        }
    }
}
