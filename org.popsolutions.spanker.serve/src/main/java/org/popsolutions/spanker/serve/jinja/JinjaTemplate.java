package org.popsolutions.spanker.serve.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.popsolutions.spanker.serve.jinja.Expressions.Expr;
import org.popsolutions.spanker.serve.jinja.Expressions.Parser;
import org.popsolutions.spanker.serve.jinja.Expressions.Scope;
import org.popsolutions.spanker.serve.jinja.Segments.Kind;
import org.popsolutions.spanker.serve.jinja.Segments.Segment;

/**
 * The Jinja subset chat templates are written in, rendered as Hugging Face's {@code apply_chat_template} and
 * llama.cpp do: text, {@code {{ }}} output, {@code {# #}} comments, {@code if/elif/else}, {@code for} (with
 * {@code loop.*}, a filter condition, {@code else}, {@code break}, {@code continue}), {@code set} (also
 * {@code ns.attr} on a {@code namespace()}), {@code generation} blocks; expressions, filters and tests as
 * {@link Expressions} and {@link Methods} describe. Anything else (macros, includes) is refused when the template
 * is compiled, naming the tag and its line.
 *
 * <p>Written here rather than taken from a library: the maintained Java Jinja (HubSpot Jinjava 2.8) brings thirteen
 * jars without OSGi manifests (Guava, five Jackson modules with SnakeYAML, javassist generating classes at run time,
 * commons-net, …) and evaluates expressions by Java EL rules, not Python's, which chat templates are written for
 * ({@code content.strip()}, {@code messages[1:]}, {@code loop.index0 % 2}); llama.cpp runs its own subset too.
 */
public final class JinjaTemplate {
    /** Output beyond this is a runaway template, not a prompt. */
    private static final int MAX_OUTPUT_CHARS = 16 << 20;

    private interface Node {
        void render(Scope scope, StringBuilder out);
    }

    private static final class LoopExit extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final boolean isBreak;

        LoopExit(boolean isBreak) {
            super(null, null, false, false);
            this.isBreak = isBreak;
        }
    }

    private final List<Node> body;

    private JinjaTemplate(List<Node> body) {
        this.body = body;
    }

    /** @throws TemplateError naming the line and what is wrong */
    public static JinjaTemplate compile(String source) {
        List<Segment> segments = Segments.of(source);
        Compiler compiler = new Compiler(segments);
        List<Node> body = compiler.block(Set.of());
        if (compiler.at < segments.size()) {
            Segment stray = segments.get(compiler.at);
            throw new TemplateError("line " + stray.line() + ": '" + stray.text() + "' without its opening tag");
        }
        return new JinjaTemplate(body);
    }

    /**
     * Renders with these variables (strings, numbers, booleans, null, lists and string-keyed maps of them).
     *
     * @throws TemplateError when the template fails or calls {@code raise_exception}
     */
    public String render(Map<String, Object> variables) {
        Scope globals = new Scope(null);
        Methods.globals().forEach(globals::set);
        Scope scope = new Scope(globals);
        variables.forEach(scope::set);
        StringBuilder out = new StringBuilder();
        try {
            renderAll(body, scope, out);
        } catch (LoopExit e) {
            throw new TemplateError("break or continue outside a loop");
        } catch (StackOverflowError e) {
            throw new TemplateError("the template nests too deep");
        }
        return out.toString();
    }

    private static void renderAll(List<Node> nodes, Scope scope, StringBuilder out) {
        for (Node n : nodes) {
            n.render(scope, out);
            if (out.length() > MAX_OUTPUT_CHARS) {
                throw new TemplateError("the template wrote more than " + MAX_OUTPUT_CHARS + " characters");
            }
        }
    }

    private static final class Compiler {
        private final List<Segment> segments;
        int at;
        /** The keyword that ended the last {@link #block}, and its parser (positioned after the keyword). */
        private String endedBy;
        private Parser endParser;

        Compiler(List<Segment> segments) {
            this.segments = segments;
        }

        /** Nodes up to a statement whose keyword is in {@code ends} (consumed; see {@link #endedBy}). */
        List<Node> block(Set<String> ends) {
            List<Node> nodes = new ArrayList<>();
            while (at < segments.size()) {
                Segment seg = segments.get(at);
                if (seg.kind() == Kind.TEXT) {
                    String text = seg.text();
                    nodes.add((s, out) -> out.append(text));
                    at++;
                    continue;
                }
                Parser p = new Parser(seg.text(), seg.line());
                if (seg.kind() == Kind.OUTPUT) {
                    Expr e = p.expression();
                    p.end();
                    nodes.add((s, out) -> out.append(Py.str(e.eval(s))));
                    at++;
                    continue;
                }
                String keyword = p.name();
                if (ends.contains(keyword)) {
                    at++;
                    endedBy = keyword;
                    endParser = p;
                    return nodes;
                }
                at++;
                nodes.add(statement(keyword, p, seg.line()));
            }
            if (!ends.isEmpty()) {
                throw new TemplateError("the template ends inside a block: expected one of "
                        + new java.util.TreeSet<>(ends));
            }
            return nodes;
        }

        private Node statement(String keyword, Parser p, int line) {
            switch (keyword) {
                case "if":
                    return ifNode(p);
                case "for":
                    return forNode(p, line);
                case "set":
                    return setNode(p, line);
                case "break":
                case "continue": {
                    p.end();
                    LoopExit exit = new LoopExit(keyword.equals("break"));
                    return (s, out) -> {
                        throw exit;
                    };
                }
                case "generation": {
                    p.end();
                    List<Node> body = block(Set.of("endgeneration"));
                    endParser.end();
                    return (s, out) -> renderAll(body, s, out);
                }
                default:
                    throw new TemplateError("line " + line + ": the tag '" + keyword + "' is not supported by this"
                            + " chat template engine (it runs if, for, set, break, continue, generation)");
            }
        }

        private Node ifNode(Parser p) {
            List<Expr> conditions = new ArrayList<>();
            List<List<Node>> branches = new ArrayList<>();
            Expr condition = p.expression();
            p.end();
            List<Node> otherwise = List.of();
            while (true) {
                conditions.add(condition);
                branches.add(block(Set.of("elif", "else", "endif")));
                if (endedBy.equals("elif")) {
                    condition = endParser.expression();
                    endParser.end();
                } else if (endedBy.equals("else")) {
                    endParser.end();
                    otherwise = block(Set.of("endif"));
                    endParser.end();
                    break;
                } else {
                    endParser.end();
                    break;
                }
            }
            List<Node> elseBranch = otherwise;
            return (s, out) -> {
                for (int i = 0; i < conditions.size(); i++) {
                    if (Py.truthy(conditions.get(i).eval(s))) {
                        renderAll(branches.get(i), s, out);
                        return;
                    }
                }
                renderAll(elseBranch, s, out);
            };
        }

        private Node forNode(Parser p, int line) {
            List<String> targets = new ArrayList<>();
            targets.add(p.name());
            while (p.accept(",")) {
                targets.add(p.name());
            }
            p.expect("in");
            Expr iterable = p.or();
            Expr filter = null;
            if (p.accept("if")) {
                filter = p.expression();
            }
            p.end();
            List<Node> body = block(Set.of("else", "endfor"));
            List<Node> empty = List.of();
            if (endedBy.equals("else")) {
                endParser.end();
                empty = block(Set.of("endfor"));
            }
            endParser.end();
            Expr condition = filter;
            List<Node> orElse = empty;
            return (s, out) -> {
                List<Object> items = Py.iterate(iterable.eval(s));
                if (condition != null) {
                    List<Object> kept = new ArrayList<>();
                    for (Object item : items) {
                        Scope probe = new Scope(s);
                        bind(probe, targets, item, line);
                        if (Py.truthy(condition.eval(probe))) {
                            kept.add(item);
                        }
                    }
                    items = kept;
                }
                if (items.isEmpty()) {
                    renderAll(orElse, s, out);
                    return;
                }
                int n = items.size();
                for (int i = 0; i < n; i++) {
                    Scope inner = new Scope(s);
                    bind(inner, targets, items.get(i), line);
                    Map<String, Object> loop = new LinkedHashMap<>();
                    loop.put("index", (long) i + 1);
                    loop.put("index0", (long) i);
                    loop.put("revindex", (long) (n - i));
                    loop.put("revindex0", (long) (n - i - 1));
                    loop.put("first", i == 0);
                    loop.put("last", i == n - 1);
                    loop.put("length", (long) n);
                    loop.put("previtem", i > 0 ? items.get(i - 1) : new Py.Undefined("previtem"));
                    loop.put("nextitem", i + 1 < n ? items.get(i + 1) : new Py.Undefined("nextitem"));
                    inner.set("loop", loop);
                    try {
                        renderAll(body, inner, out);
                    } catch (LoopExit exit) {
                        if (exit.isBreak) {
                            break;
                        }
                    }
                }
            };
        }

        private static void bind(Scope scope, List<String> targets, Object item, int line) {
            if (targets.size() == 1) {
                scope.set(targets.get(0), item);
                return;
            }
            List<Object> parts = Py.iterate(item);
            if (parts.size() != targets.size()) {
                throw new TemplateError("line " + line + ": cannot unpack " + parts.size() + " values into "
                        + targets);
            }
            for (int i = 0; i < parts.size(); i++) {
                scope.set(targets.get(i), parts.get(i));
            }
        }

        private Node setNode(Parser p, int line) {
            String name = p.name();
            String attribute = p.accept(".") ? p.name() : null;
            if (!p.peek().is("=")) {
                throw new TemplateError("line " + line + ": only 'set name = value' and 'set ns.attr = value' are"
                        + " supported");
            }
            p.expect("=");
            Expr value = p.expression();
            p.end();
            if (attribute == null) {
                return (s, out) -> s.set(name, value.eval(s));
            }
            return (s, out) -> {
                Object target = s.get(name);
                if (!(target instanceof Py.Namespace ns)) {
                    throw new TemplateError("line " + line + ": cannot set an attribute of " + Py.typeName(target)
                            + " '" + name + "' (only of a namespace())");
                }
                ns.attributes.put(attribute, value.eval(s));
            };
        }
    }
}
