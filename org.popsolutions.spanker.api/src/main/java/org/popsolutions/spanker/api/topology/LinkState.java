package org.popsolutions.spanker.api.topology;

/** Link training state as the card reports it in two bits. Data passes only while {@link #UP}. */
public enum LinkState {
    DOWN(0),
    TRAINING(1),
    UP(2),
    FAULT(3);

    private final int code;

    LinkState(int code) {
        this.code = code;
    }

    /** The 2-bit hardware code. */
    public int code() {
        return code;
    }

    public boolean carriesData() {
        return this == UP;
    }

    /** Decodes the 2-bit hardware code; only the two low bits are significant. */
    public static LinkState fromCode(int code) {
        if (code < 0 || code > 3) {
            throw new IllegalArgumentException("link state code must be 0..3 (2 bits), got " + code);
        }
        return values()[code];
    }
}
