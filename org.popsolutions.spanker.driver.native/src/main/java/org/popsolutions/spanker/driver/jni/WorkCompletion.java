package org.popsolutions.spanker.driver.jni;

/** How a work item ended ({@code struct spanker_work_wait}): {@link #status()} is one of the STATUS_ values. */
public record WorkCompletion(long ticket, int status, long deviceNanos) {
    public static final int STATUS_DONE = 0;
    /** k zero or not a multiple of the format's block, or a size overflows. */
    public static final int STATUS_BAD_DIMS = 1;
    /** An operand or OUT runs past the card's DDR, or OUT overlaps an operand. */
    public static final int STATUS_OUT_OF_RANGE = 2;
    /** The card does not know the operation. */
    public static final int STATUS_BAD_OP = 3;
    /** The card ran out of working memory for the item. */
    public static final int STATUS_NO_MEMORY = 4;
}
