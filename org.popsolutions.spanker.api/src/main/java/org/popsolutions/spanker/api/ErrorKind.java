package org.popsolutions.spanker.api;

/** The kinds of error Spanker reports; {@link #label()} is the stable name used in JSON output. */
public enum ErrorKind {
    NO_SAILS("NoSails"),
    TOPOLOGY_MISMATCH("TopologyMismatch"),
    SHAPE_MISMATCH("ShapeMismatch"),
    BAD_DIMS("BadDims"),
    OUTPUT_TOO_SMALL("OutputTooSmall"),
    NOT_IMPLEMENTED("NotImplemented"),
    RUNTIME("Runtime"),
    INVALID_MODEL("InvalidModel"),
    INVALID_CONFIGURATION("InvalidConfiguration"),
    CARD_MEMORY_EXCEEDED("CardMemoryExceeded"),
    DRIVER("Driver");

    private final String label;

    ErrorKind(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
