package org.popsolutions.spanker.serve.jinja;

import java.util.ArrayList;
import java.util.List;

/**
 * A template cut into text, {@code {{ output }}} and {@code {% statement %}} segments, with the whitespace rules
 * chat templates are written for: Hugging Face and llama.cpp render them with {@code trim_blocks} (the newline after
 * a block or comment tag goes) and {@code lstrip_blocks} (spaces and tabs before a block or comment tag at the start
 * of a line go); {@code -} inside a tag strips all whitespace on that side, {@code +} keeps it.
 */
final class Segments {
    enum Kind { TEXT, OUTPUT, STATEMENT }

    record Segment(Kind kind, String text, int line) {
    }

    private Segments() {
    }

    static List<Segment> of(String src) {
        List<Segment> out = new ArrayList<>();
        int pos = 0;
        boolean stripLeading = false;
        boolean trimNewline = false;
        while (true) {
            int open = nextTag(src, pos);
            String text = src.substring(pos, open < 0 ? src.length() : open);
            if (stripLeading) {
                text = text.stripLeading();
            } else if (trimNewline && text.startsWith("\n")) {
                text = text.substring(1);
            } else if (trimNewline && text.startsWith("\r\n")) {
                text = text.substring(2);
            }
            if (open < 0) {
                add(out, text, line(src, pos));
                return out;
            }
            char kind = src.charAt(open + 1);
            int inner = open + 2;
            char marker = inner < src.length() ? src.charAt(inner) : ' ';
            if (marker == '-') {
                text = text.stripTrailing();
            } else if (kind != '{' && marker != '+') {
                int start = open;
                while (start > pos && (src.charAt(start - 1) == ' ' || src.charAt(start - 1) == '\t')) {
                    start--;
                }
                if (start == 0 || src.charAt(start - 1) == '\n') {
                    text = text.substring(0, Math.max(0, text.length() - (open - start)));
                }
            }
            add(out, text, line(src, pos));
            int bodyStart = marker == '-' || marker == '+' ? inner + 1 : inner;
            int close = kind == '#' ? src.indexOf("#}", bodyStart) : closing(src, bodyStart, kind == '{' ? '}' : '%');
            if (close < 0) {
                throw new TemplateError("line " + line(src, open) + ": the tag " + src.substring(open, open + 2)
                        + " is never closed");
            }
            boolean minusRight = close > bodyStart && src.charAt(close - 1) == '-';
            String body = src.substring(bodyStart, minusRight ? close - 1 : close).strip();
            if (kind == '{') {
                out.add(new Segment(Kind.OUTPUT, body, line(src, open)));
            } else if (kind == '%') {
                out.add(new Segment(Kind.STATEMENT, body, line(src, open)));
            }
            pos = close + 2;
            stripLeading = minusRight;
            trimNewline = kind != '{';
        }
    }

    private static void add(List<Segment> out, String text, int line) {
        if (!text.isEmpty()) {
            out.add(new Segment(Kind.TEXT, text, line));
        }
    }

    private static int nextTag(String src, int from) {
        for (int i = src.indexOf('{', from); i >= 0 && i + 1 < src.length(); i = src.indexOf('{', i + 1)) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
        }
        return -1;
    }

    /** Where {@code }}} or {@code %}} closes the tag, skipping string literals (a template may print "%}"). */
    private static int closing(String src, int from, char first) {
        char quote = 0;
        for (int i = from; i + 1 < src.length(); i++) {
            char c = src.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == first && src.charAt(i + 1) == '}') {
                return i;
            }
        }
        return -1;
    }

    private static int line(String src, int at) {
        int line = 1;
        for (int i = 0; i < at && i < src.length(); i++) {
            if (src.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }
}
