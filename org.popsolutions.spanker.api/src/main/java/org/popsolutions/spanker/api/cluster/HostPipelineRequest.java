package org.popsolutions.spanker.api.cluster;

import java.time.Duration;

/**
 * A llama model to run as a pipeline across L3 hosts.
 *
 * @param model the GGUF file, a path every host can read (the hosts of one machine, or a shared file system)
 * @param hosts K: the model's blocks are cut into K contiguous stages, one per host
 * @param cardsPerHost each host's stage runs on this many cards of its own (tensor parallel over them)
 * @param contextLength tokens the KV caches hold
 * @param floatActivations float activations instead of ggml's quantized ones
 * @param threadsPerCard row threads per (mock) card on each host
 * @param timeout how long one load or one token may take before it is an error
 */
public record HostPipelineRequest(String model, int hosts, int cardsPerHost, int contextLength,
        boolean floatActivations, int threadsPerCard, Duration timeout) {
    public HostPipelineRequest {
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("a host pipeline needs a model file");
        }
        if (hosts < 1) {
            throw new IllegalArgumentException("--hosts must be at least 1, was " + hosts);
        }
        if (cardsPerHost < 1) {
            throw new IllegalArgumentException("cards per host must be at least 1, was " + cardsPerHost);
        }
        if (contextLength < 1 || threadsPerCard < 1) {
            throw new IllegalArgumentException("context and threads per card must be at least 1");
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("a host pipeline needs a positive timeout");
        }
    }
}
