package org.popsolutions.spanker.api.plan;

/** What a plan search minimises. */
public enum PlanObjective {
    /** Seconds per generated token of one decode stream (one token at a time through every block). */
    DECODE("decode"),
    /** Seconds to run a prompt of P tokens through the model (a batched workload: stages may overlap). */
    PREFILL("prefill");

    private final String label;

    PlanObjective(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
