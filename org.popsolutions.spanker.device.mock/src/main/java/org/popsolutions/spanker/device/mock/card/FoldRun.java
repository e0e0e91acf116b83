package org.popsolutions.spanker.device.mock.card;

import java.util.List;
import org.popsolutions.spanker.api.card.Combine;
import org.popsolutions.spanker.ggml.ops.CardOps;

/**
 * A fold taken as one pass over the card's memory: a run of a program's consecutive receives and reduces over ranges
 * of one length (forwards between them), where some range is written by one op and read or written by another, as
 * a collective folds several messages into one range (SPEC §4's card order, which may stage the first messages
 * apart from the receiver's own data).
 *
 * <p>Op by op, each receive and reduce is a pass over the whole range, and a staging range written by one op is read
 * back from memory by the next. Here the run first takes its messages in program order (forwarding what it relays
 * as it comes, so each link's messages are still taken in the order they were put on it), then applies the ops in
 * program order block by block: each block's partial folds stay in the cache, and the card's memory and the senders'
 * are each passed over once. Every op maps value i of its operands to value i of its output, and the run's ranges are
 * each either the same range or apart, so every value goes through the same operations in the same order as op by
 * op: the results, staging ranges included, are the same bit for bit.
 */
final class FoldRun implements MockProgram.WaitingStep {
    /** Values per block: the run's streams of a block (about five) stay within a core's L1 cache. */
    static final int BLOCK = 1024;

    /** One op of the run. */
    sealed interface Part permits Take, Pass, Fold {
        /** The op's index in its program. */
        int op();
    }

    /** A receive: the message on {@code port}, combined into {@code values} (and {@code tags}). */
    record Take(int op, MockPort port, long bytes, MockProgram.Floats values, MockRegion tags, int tagAt,
            Combine combine) implements Part {
    }

    /** A forward, run as it stands in the program while the messages are taken. */
    record Pass(int op, MockProgram.WaitingStep forward) implements Part {
    }

    /** A reduce: {@code into = into ⊕ from} (and their tags). */
    record Fold(int op, Combine combine, MockProgram.Floats into, MockRegion intoTags, int intoTagAt,
            MockProgram.Floats from, MockRegion fromTags, int fromTagAt) implements Part {
    }

    private final MockProgram program;
    private final MockCard card;
    private final Part[] parts;
    private final int length;
    /** The ranges the run writes, kept from messages of this card that still read them first. */
    private final MockProgram.Range[] written;
    /** Per part: the message taken (receives), while the run is taking them. */
    private final MockLink.Message[] taken;
    /** Per part, the operands of its combine while the run folds (reused: a run allocates nothing). */
    private final Combine[] combine;
    private final float[][] acc;
    private final int[] accAt;
    private final byte[][] accTags;
    private final int[] accTagAt;
    private final float[][] in;
    private final int[] inAt;
    private final byte[][] inTags;
    private final int[] inTagAt;
    /**
     * Untagged SUM and COPY runs fold in lanes: per block, each range of the card the run uses is copied to a lane of
     * its own (at index 0) and back once, and every op adds lane to lane. A loop over two arrays at offsets of their
     * own is not vectorized by the JIT (the arrays might be one array), a loop over both from index 0 is: the adds
     * run several values at a time instead of one. Null for other runs (they fold in place, block by block).
     */
    private final float[][] lanes;
    /** The card's ranges the lanes hold, in lane order; then the lane a message is copied to before it is added. */
    private final MockProgram.Floats[] laneRanges;
    /** Per lane: loaded before the block's ops (it is read before it is all written); stored after them. */
    private final boolean[] load;
    private final boolean[] store;
    /** Per part: its destination lane and (reduces) its source lane. */
    private final int[] intoLane;
    private final int[] fromLane;
    private final float[][] laneArrays;
    /** The next part to take or forward. */
    private int next;

    FoldRun(MockProgram program, MockCard card, List<Part> parts, int length, MockProgram.Range[] written) {
        this.program = program;
        this.card = card;
        this.parts = parts.toArray(Part[]::new);
        this.length = length;
        this.written = written;
        int n = this.parts.length;
        this.taken = new MockLink.Message[n];
        this.combine = new Combine[n];
        this.acc = new float[n][];
        this.accAt = new int[n];
        this.accTags = new byte[n][];
        this.accTagAt = new int[n];
        this.in = new float[n][];
        this.inAt = new int[n];
        this.inTags = new byte[n][];
        this.inTagAt = new int[n];
        this.intoLane = new int[n];
        this.fromLane = new int[n];
        List<MockProgram.Floats> ranges = new java.util.ArrayList<>();
        List<Boolean> loaded = new java.util.ArrayList<>();
        boolean laned = true;
        for (int k = 0; k < n; k++) {
            Part part = this.parts[k];
            Combine c = part instanceof Take t ? t.combine() : part instanceof Fold f ? f.combine() : null;
            if (c == null) {
                continue;
            }
            boolean tagged = part instanceof Take t ? t.tags() != null : ((Fold) part).intoTags() != null;
            laned &= !tagged && (c == Combine.SUM || c == Combine.COPY);
            if (part instanceof Fold f) {
                fromLane[k] = lane(ranges, loaded, f.from(), true);
            }
            MockProgram.Floats into = part instanceof Take t ? t.values() : ((Fold) part).into();
            intoLane[k] = lane(ranges, loaded, into, c != Combine.COPY);
        }
        if (laned) {
            int count = ranges.size();
            this.lanes = new float[count + 1][BLOCK];
            this.laneRanges = ranges.toArray(MockProgram.Floats[]::new);
            this.load = new boolean[count];
            this.store = new boolean[count];
            for (int l = 0; l < count; l++) {
                load[l] = loaded.get(l);
            }
            for (int k = 0; k < n; k++) {
                if (!(this.parts[k] instanceof Pass)) {
                    store[intoLane[k]] = true;
                }
            }
            this.laneArrays = new float[count][];
        } else {
            this.lanes = null;
            this.laneRanges = null;
            this.load = null;
            this.store = null;
            this.laneArrays = null;
        }
    }

    /** The lane of {@code range}, a new one if it has none yet ({@code read}: its first use reads it). */
    private static int lane(List<MockProgram.Floats> ranges, List<Boolean> loaded, MockProgram.Floats range,
            boolean read) {
        int at = ranges.indexOf(range);
        if (at >= 0) {
            return at;
        }
        ranges.add(range);
        loaded.add(read);
        return ranges.size() - 1;
    }

    /** The first op of the run (its waiting step stands there; the rest of the run's ops are empty). */
    int firstOp() {
        return parts[0].op();
    }

    /** A new run of the program from its start: whatever an earlier run that failed half way took is dropped. */
    void restart() {
        next = 0;
        java.util.Arrays.fill(taken, null);
    }

    @Override
    public MockLink tryRun() {
        while (next < parts.length) {
            Part part = parts[next];
            program.failedAt(part.op());
            if (part instanceof Take t) {
                MockLink.Message in = t.port().in.poll();
                if (in == null) {
                    return t.port().in;
                }
                taken[next] = program.arrived(t.port(), in, t.bytes(), "op");
            } else if (part instanceof Pass p) {
                MockLink waitsOn = p.forward().tryRun();
                if (waitsOn != null) {
                    return waitsOn;
                }
            }
            next++;
        }
        program.failedAt(parts[0].op());
        try {
            card.keepLent(written);
            // the senders' memory is read in place: each lent message's lock is held while it is read, as a receive holds it
            foldHolding(0);
            card.foldPasses = card.foldPasses + 1;
        } finally {
            for (int k = 0; k < parts.length; k++) {
                MockLink.Message m = taken[k];
                if (m != null) {
                    ((Take) parts[k]).port().in.recycle(m);
                    taken[k] = null;
                }
            }
            next = 0;
        }
        program.failedAt(-1);
        return null;
    }

    private void foldInLanes() {
        for (int l = 0; l < laneArrays.length; l++) {
            laneArrays[l] = laneRanges[l].array();
        }
        float[] message = lanes[lanes.length - 1];
        for (int from = 0; from < length; from += BLOCK) {
            int n = Math.min(BLOCK, length - from);
            for (int l = 0; l < laneArrays.length; l++) {
                if (load[l]) {
                    System.arraycopy(laneArrays[l], laneRanges[l].at() + from, lanes[l], 0, n);
                }
            }
            for (int k = 0; k < parts.length; k++) {
                Part part = parts[k];
                if (part instanceof Take t) {
                    MockLink.Message m = taken[k];
                    if (t.combine() == Combine.COPY) {
                        System.arraycopy(m.source, m.sourceAt + from, lanes[intoLane[k]], 0, n);
                    } else {
                        System.arraycopy(m.source, m.sourceAt + from, message, 0, n);
                        add(lanes[intoLane[k]], message, n);
                    }
                } else if (part instanceof Fold f) {
                    if (f.combine() == Combine.COPY) {
                        System.arraycopy(lanes[fromLane[k]], 0, lanes[intoLane[k]], 0, n);
                    } else {
                        add(lanes[intoLane[k]], lanes[fromLane[k]], n);
                    }
                }
            }
            for (int l = 0; l < laneArrays.length; l++) {
                if (store[l]) {
                    System.arraycopy(lanes[l], 0, laneArrays[l], laneRanges[l].at() + from, n);
                }
            }
        }
        java.util.Arrays.fill(laneArrays, null);
    }

    /** {@code acc = acc + in} value by value (Combine.SUM), both from index 0. */
    private static void add(float[] acc, float[] in, int n) {
        for (int i = 0; i < n; i++) {
            acc[i] = acc[i] + in[i];
        }
    }

    /** Takes the locks of the messages from part {@code k} on, then folds. */
    private void foldHolding(int k) {
        while (k < taken.length && taken[k] == null) {
            k++;
        }
        if (k == taken.length) {
            fold();
            return;
        }
        MockLink.Message m = taken[k];
        synchronized (m) {
            foldHolding(k + 1);
            m.consumed();
        }
    }

    /** Every op of the run over one block of values after another. */
    private void fold() {
        if (lanes != null) {
            foldInLanes();
            return;
        }
        for (int k = 0; k < parts.length; k++) {
            Part part = parts[k];
            if (part instanceof Take t) {
                MockLink.Message m = taken[k];
                combine[k] = t.combine();
                acc[k] = t.values().array();
                accAt[k] = t.values().at();
                accTags[k] = t.tags() == null ? null : t.tags().heapBytes().array();
                accTagAt[k] = t.tags() == null ? 0 : t.tags().heapBytes().arrayOffset() + t.tagAt();
                in[k] = m.source;
                inAt[k] = m.sourceAt;
                inTags[k] = m.tagSource;
                inTagAt[k] = m.tagSourceAt;
            } else if (part instanceof Fold f) {
                combine[k] = f.combine();
                acc[k] = f.into().array();
                accAt[k] = f.into().at();
                accTags[k] = f.intoTags() == null ? null : f.intoTags().heapBytes().array();
                accTagAt[k] = f.intoTags() == null ? 0 : f.intoTags().heapBytes().arrayOffset() + f.intoTagAt();
                in[k] = f.from().array();
                inAt[k] = f.from().at();
                inTags[k] = f.fromTags() == null ? null : f.fromTags().heapBytes().array();
                inTagAt[k] = f.fromTags() == null ? 0 : f.fromTags().heapBytes().arrayOffset() + f.fromTagAt();
            } else {
                combine[k] = null;
            }
        }
        try {
            for (int from = 0; from < length; from += BLOCK) {
                int n = Math.min(BLOCK, length - from);
                for (int k = 0; k < parts.length; k++) {
                    if (combine[k] != null) {
                        CardOps.combine(combine[k], acc[k], accAt[k] + from, accTags[k], accTagAt[k] + from, in[k],
                                inAt[k] + from, inTags[k], inTagAt[k] + from, n);
                    }
                }
            }
        } finally {
            // the messages' arrays go back with the messages
            java.util.Arrays.fill(in, null);
            java.util.Arrays.fill(inTags, null);
        }
    }
}
