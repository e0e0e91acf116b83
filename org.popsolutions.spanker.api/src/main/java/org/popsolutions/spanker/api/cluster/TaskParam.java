package org.popsolutions.spanker.api.cluster;

/**
 * One task parameter: a tensor handle (INPUT, OUTPUT, INOUT) or a 64-bit scalar (SCALAR).
 */
public record TaskParam(ParamType type, long handle, long scalar) {
    public TaskParam {
        if (type == null) {
            throw new IllegalArgumentException("a task parameter needs a type");
        }
        if (type != ParamType.SCALAR && handle == 0) {
            throw new IllegalArgumentException(type + " parameter needs a tensor handle (0 is no tensor)");
        }
    }

    public static TaskParam input(long handle) {
        return new TaskParam(ParamType.INPUT, handle, 0);
    }

    public static TaskParam output(long handle) {
        return new TaskParam(ParamType.OUTPUT, handle, 0);
    }

    public static TaskParam inout(long handle) {
        return new TaskParam(ParamType.INOUT, handle, 0);
    }

    public static TaskParam scalar(long value) {
        return new TaskParam(ParamType.SCALAR, 0, value);
    }
}
