package org.popsolutions.spanker.api.cluster;

/** How a task uses a parameter (Linqu's codes on the wire). */
public enum ParamType {
    INPUT(0),
    OUTPUT(1),
    INOUT(2),
    SCALAR(3);

    private final int code;

    ParamType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public boolean reads() {
        return this == INPUT || this == INOUT;
    }

    public boolean writes() {
        return this == OUTPUT || this == INOUT;
    }

    public static ParamType ofCode(int code) {
        for (ParamType type : values()) {
            if (type.code == code) {
                return type;
            }
        }
        throw new IllegalArgumentException("parameter type " + code + " is unknown (expected 0 to 3)");
    }
}
