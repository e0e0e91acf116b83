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
 * @param device the cards every host runs its stage on: {@value #MOCK} (in the host's process) or {@value #SAILS}
 *        (the host's own emulated Sails cards, one process each, started by the host when first asked); {@code null}
 *        for the device the caller's framework was started with (property {@code spanker.device}), else mock
 * @param hostsPerPod for a plan across pods: the hosts of one pod the pipeline uses before it continues in the next
 *        pod (stages i·H..i·H+H−1 in pod i); 0 keeps every stage in one pod
 */
public record HostPipelineRequest(String model, int hosts, int cardsPerHost, int contextLength,
        boolean floatActivations, int threadsPerCard, Duration timeout, String device, int hostsPerPod) {
    public static final String MOCK = "mock";
    public static final String SAILS = "sails";

    /** On the caller's device ({@code device} null). */
    public HostPipelineRequest(String model, int hosts, int cardsPerHost, int contextLength, boolean floatActivations,
            int threadsPerCard, Duration timeout) {
        this(model, hosts, cardsPerHost, contextLength, floatActivations, threadsPerCard, timeout, null, 0);
    }

    /** Inside one pod. */
    public HostPipelineRequest(String model, int hosts, int cardsPerHost, int contextLength, boolean floatActivations,
            int threadsPerCard, Duration timeout, String device) {
        this(model, hosts, cardsPerHost, contextLength, floatActivations, threadsPerCard, timeout, device, 0);
    }

    /** The pod (counted from 0 along the pipeline) of stage {@code stage}. */
    public int podOf(int stage) {
        return hostsPerPod == 0 ? 0 : stage / hostsPerPod;
    }

    public HostPipelineRequest {
        if (hostsPerPod < 0) {
            throw new IllegalArgumentException("hosts per pod must be >= 0 (0: one pod), was " + hostsPerPod);
        }
        if (device != null && !device.equals(MOCK) && !device.equals(SAILS)) {
            throw new IllegalArgumentException("a host's cards are mock or sails, not '" + device + "'");
        }
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
