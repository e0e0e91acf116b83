package org.popsolutions.spanker.api.card;

import org.popsolutions.spanker.api.ErrorKind;
import org.popsolutions.spanker.api.SpankerException;

/** An allocation that does not fit in what is left of a card's configured DDR. */
public final class OutOfCardMemoryException extends SpankerException {
    private static final long serialVersionUID = 1L;
    private final int card;
    private final long requested;
    private final long free;

    public OutOfCardMemoryException(int card, String purpose, long requested, long free, long capacity) {
        super("card " + card + " cannot hold " + purpose + ": " + requested + " bytes requested, " + free
                + " of its " + capacity + " bytes free; use more cards or cards with more memory");
        this.card = card;
        this.requested = requested;
        this.free = free;
    }

    public int card() {
        return card;
    }

    public long requested() {
        return requested;
    }

    public long free() {
        return free;
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.CARD_MEMORY_EXCEEDED;
    }
}
