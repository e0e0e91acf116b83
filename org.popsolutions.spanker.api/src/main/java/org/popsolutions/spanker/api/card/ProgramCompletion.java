package org.popsolutions.spanker.api.card;

/**
 * A program that ran to its end.
 *
 * @param card the card that ran it
 * @param ops ops executed
 * @param busyNanos time the card spent on it, waits for link messages included
 * @param deviceStartNanos when the program started on the card, on the host's {@link System#nanoTime()} clock (the
 *        card's own clock moved by its offset, estimated when the host connected), or {@link #UNTIMED} when the card
 *        does not say (a device timing as nccl-tests does: no host-link crossing in it)
 * @param deviceFinishNanos when the program finished on the card, on the same clock, or {@link #UNTIMED}
 * @param timeDilation how many times slower than the hardware the card ran every modelled time (an emulated card
 *        dilated so it stays ahead of its host's CPU; 1 for real hardware and undilated cards): divide its times by it
 */
public record ProgramCompletion(int card, int ops, long busyNanos, long deviceStartNanos, long deviceFinishNanos,
        double timeDilation) {
    /** A device time the card did not report. */
    public static final long UNTIMED = Long.MIN_VALUE;

    public ProgramCompletion {
        if (!(timeDilation >= 1)) {
            throw new IllegalArgumentException("time dilation must be >= 1, got " + timeDilation);
        }
    }

    /** A completion without device times on an undilated card. */
    public ProgramCompletion(int card, int ops, long busyNanos) {
        this(card, ops, busyNanos, UNTIMED, UNTIMED, 1);
    }

    /** Whether the card reported when the program started and finished on its clock. */
    public boolean deviceTimed() {
        return deviceStartNanos != UNTIMED && deviceFinishNanos != UNTIMED;
    }
}
