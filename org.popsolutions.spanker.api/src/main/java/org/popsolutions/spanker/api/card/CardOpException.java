package org.popsolutions.spanker.api.card;

import org.popsolutions.spanker.api.ErrorKind;
import org.popsolutions.spanker.api.SpankerException;

/** An op of a program failed on a card: a bad operand, a link not UP, a message that never came. */
public final class CardOpException extends SpankerException {
    private static final long serialVersionUID = 1L;
    private final int card;
    private final String program;
    private final int opIndex;
    private final OpCode op;

    public CardOpException(int card, String program, int opIndex, OpCode op, String reason) {
        super("card " + card + ", program '" + program + "', op " + opIndex + " (" + op + "): " + reason);
        this.card = card;
        this.program = program;
        this.opIndex = opIndex;
        this.op = op;
    }

    public int card() {
        return card;
    }

    public String program() {
        return program;
    }

    /** Position of the failed op in its program, 0-based. */
    public int opIndex() {
        return opIndex;
    }

    public OpCode op() {
        return op;
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.RUNTIME;
    }
}
