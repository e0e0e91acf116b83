package org.popsolutions.spanker.api;

/** A plan would put more bytes on a card than the card holds. */
public final class CardMemoryExceededException extends SpankerException {
    private static final long serialVersionUID = 1L;
    private final int card;
    private final long need;
    private final long have;

    public CardMemoryExceededException(int card, long need, long have, String advice) {
        super("card " + card + " would need " + need + " bytes (" + gib(need) + ") but holds " + have + " bytes ("
                + gib(have) + "); " + advice);
        this.card = card;
        this.need = need;
        this.have = have;
    }

    private static String gib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }

    public int card() {
        return card;
    }

    public long need() {
        return need;
    }

    public long have() {
        return have;
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.CARD_MEMORY_EXCEEDED;
    }
}
