package org.popsolutions.spanker.api.card;

import java.util.List;
import java.util.Objects;

/**
 * Ops a card runs one after another, in list order, over buffers resident on it. Programs submitted to one card
 * run in submission order; programs on different cards run at the same time and meet only through
 * {@link Op.Send}/{@link Op.Receive}. A program is data: build it once and submit it as often as needed.
 *
 * @param label what it is for (shown in errors), e.g. {@code decode blk.0-11}
 */
public record Program(String label, List<Op> ops) {
    public Program {
        Objects.requireNonNull(label, "label");
        ops = List.copyOf(ops);
    }

    public static Program of(String label, Op... ops) {
        return new Program(label, List.of(ops));
    }
}
