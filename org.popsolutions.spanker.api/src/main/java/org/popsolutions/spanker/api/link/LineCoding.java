package org.popsolutions.spanker.api.link;

/** Line code of the LVDS lanes: payload bits per transmitted bits. */
public enum LineCoding {
    B8_B10("8b/10b", 8, 10),
    B64_B66("64b/66b", 64, 66);

    private final String label;
    private final int dataBits;
    private final int lineBits;

    LineCoding(String label, int dataBits, int lineBits) {
        this.label = label;
        this.dataBits = dataBits;
        this.lineBits = lineBits;
    }

    public String label() {
        return label;
    }

    /** Fraction of line bits that carry data. */
    public double efficiency() {
        return (double) dataBits / lineBits;
    }

    public static LineCoding fromLabel(String text) {
        for (LineCoding coding : values()) {
            if (coding.label.equalsIgnoreCase(text.trim()) || coding.name().equalsIgnoreCase(text.trim())) {
                return coding;
            }
        }
        throw new IllegalArgumentException("line coding must be 8b/10b or 64b/66b, got '" + text + "'");
    }
}
