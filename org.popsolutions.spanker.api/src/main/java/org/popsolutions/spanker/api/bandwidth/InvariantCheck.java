package org.popsolutions.spanker.api.bandwidth;

/**
 * One invariant of a model and whether it holds.
 *
 * @param name stable identifier, e.g. {@code tier-order}
 * @param rule the rule in words
 */
public record InvariantCheck(String name, String rule, boolean holds) {
}
