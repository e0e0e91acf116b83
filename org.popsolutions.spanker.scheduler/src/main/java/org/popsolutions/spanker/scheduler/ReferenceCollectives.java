package org.popsolutions.spanker.scheduler;

import java.util.List;
import java.util.Objects;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.BadDimsException;
import org.popsolutions.spanker.api.collective.Collectives;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.scheduler.collective.BufferChecks;

/**
 * The original collectives, exactly: check the buffer count, then every length against card 0's; fold
 * from card 0 in card order; write the result to every card. The loops run card by card so each card's
 * buffer is streamed once, which gives every element the same fold order as an element-by-element loop.
 */
@Component
public final class ReferenceCollectives implements Collectives {

    @Override
    public void allReduce(Topology topology, ReduceOp op, List<float[]> perCardBuffers) {
        Objects.requireNonNull(op, "op");
        int length = BufferChecks.checkShapes(topology, perCardBuffers);
        int cards = perCardBuffers.size();
        if (length == 0) {
            return;
        }
        float[] result = perCardBuffers.get(0).clone();
        for (int card = 1; card < cards; card++) {
            accumulate(op, result, perCardBuffers.get(card));
        }
        if (op == ReduceOp.AVG) {
            float divisor = cards;
            for (int i = 0; i < length; i++) {
                result[i] = result[i] / divisor;
            }
        }
        for (float[] buffer : perCardBuffers) {
            System.arraycopy(result, 0, buffer, 0, length);
        }
    }

    private static void accumulate(ReduceOp op, float[] accumulator, float[] values) {
        switch (op) {
            case SUM, AVG -> {
                for (int i = 0; i < accumulator.length; i++) {
                    accumulator[i] = accumulator[i] + values[i];
                }
            }
            case MAX -> {
                // Strict comparison: a NaN already in the accumulator is never replaced.
                for (int i = 0; i < accumulator.length; i++) {
                    if (values[i] > accumulator[i]) {
                        accumulator[i] = values[i];
                    }
                }
            }
            case MIN -> {
                for (int i = 0; i < accumulator.length; i++) {
                    if (values[i] < accumulator[i]) {
                        accumulator[i] = values[i];
                    }
                }
            }
            default -> throw new IllegalArgumentException("unsupported reduce op " + op);
        }
    }

    @Override
    public float[] allGather(Topology topology, List<float[]> perCardBuffers) {
        int length = BufferChecks.checkShapes(topology, perCardBuffers);
        int cards = perCardBuffers.size();
        if ((long) length * cards > Integer.MAX_VALUE - 8) {
            throw new BadDimsException("allgather of " + cards + " cards x " + length
                    + " elements exceeds the largest Java array (2^31 - 9 elements)");
        }
        float[] gathered = new float[length * cards];
        for (int card = 0; card < cards; card++) {
            System.arraycopy(perCardBuffers.get(card), 0, gathered, card * length, length);
        }
        return gathered;
    }
}
