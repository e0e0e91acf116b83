package org.popsolutions.spanker.api.plan;

import java.util.List;
import org.popsolutions.spanker.api.strategy.Strategy;

/**
 * Where one tensor's bytes live.
 *
 * @param split {@code rows} (column-parallel: each card a range of output rows), {@code columns} (row-parallel:
 *        each card a range of every row), or {@code whole}
 * @param bytesPerCard bytes on each card of {@code cards}, in the same order
 */
public record TensorPlacement(String tensor, int layer, Strategy strategy, String split, List<Integer> cards,
        List<Long> bytesPerCard) {
    public TensorPlacement {
        cards = List.copyOf(cards);
        bytesPerCard = List.copyOf(bytesPerCard);
    }
}
