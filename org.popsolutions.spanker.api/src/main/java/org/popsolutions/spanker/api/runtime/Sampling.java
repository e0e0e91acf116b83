package org.popsolutions.spanker.api.runtime;

/**
 * @param temperature 0 = greedy (the most likely token)
 * @param topK keep the K most likely tokens, 0 = all
 * @param topP keep the most likely tokens up to this probability
 * @param seed the sampler's seed
 */
public record Sampling(double temperature, int topK, double topP, long seed) {
    public static final Sampling GREEDY = new Sampling(0, 0, 1, 1);
}
