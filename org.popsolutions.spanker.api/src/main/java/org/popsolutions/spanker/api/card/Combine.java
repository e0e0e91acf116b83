package org.popsolutions.spanker.api.card;

/**
 * How a {@link Op.Receive} or {@link Op.Reduce} puts incoming values into the destination range ({@code acc}),
 * element by element; {@code in} is the incoming value. The accumulator is always the left operand, so a chain of
 * reduces folds left in the order the program lists them (SPEC §4: card order 0, 1, …, p−1 when the program
 * receives in card order).
 *
 * <p>Untagged (no origin tags): SUM is {@code acc = acc + in} in float32; MAX is {@code if (in > acc) acc = in}
 * and MIN {@code if (in < acc) acc = in}: strict comparisons, so the accumulator keeps ties, a NaN already in the
 * accumulator stays and an incoming NaN is skipped (the original's fold from card 0).
 *
 * <p>Tagged (origin tags given, one unsigned byte per value, see {@link Op.TagOrigins}): MAX and MIN take the
 * larger (smaller) value, a tie going to the lower origin tag; an incoming NaN wins unless the accumulator holds a
 * NaN; the winner's tag comes along. This is the strict fold from card 0 made independent of the order an
 * algorithm combines in. SUM ignores tags.
 *
 * <p>Wire codes: the ordinal (COPY 0, SUM 1, MAX 2, MIN 3).
 */
public enum Combine {
    /** {@code acc = in}: the incoming values replace the range (and their tags the range's tags). */
    COPY,
    SUM,
    MAX,
    MIN
}
