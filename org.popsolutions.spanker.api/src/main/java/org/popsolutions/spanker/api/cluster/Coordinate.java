package org.popsolutions.spanker.api.cluster;

/**
 * Where a node sits: its level and the indices l6, l5, l4 (unsigned 8 bits) and l3 (unsigned 16 bits). Indices
 * below a node's own level are 0 (an L4 pod has l3 = 0), so {@code (level, l6, l5, l4, l3)} is unique.
 */
public record Coordinate(Level level, int l6, int l5, int l4, int l3) {
    public Coordinate {
        if (level == null) {
            throw new IllegalArgumentException("a coordinate needs a level");
        }
        checkRange("l6", l6, 0xFF);
        checkRange("l5", l5, 0xFF);
        checkRange("l4", l4, 0xFF);
        checkRange("l3", l3, 0xFFFF);
        if (level.number() > Level.HOST.number() && l3 != 0 || level.number() > Level.POD.number() && l4 != 0
                || level == Level.CLOS2 && l5 != 0) {
            throw new IllegalArgumentException("coordinate " + describe(level, l6, l5, l4, l3)
                    + " sets an index below its level; those must be 0");
        }
    }

    private static void checkRange(String name, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(name + " = " + value + " is out of range 0.." + max);
        }
    }

    public static Coordinate root() {
        return new Coordinate(Level.CLOS2, 0, 0, 0, 0);
    }

    /** The node's parent, one level up. */
    public Coordinate parent() {
        return switch (level) {
            case HOST -> new Coordinate(Level.POD, l6, l5, l4, 0);
            case POD -> new Coordinate(Level.CLOS1, l6, l5, 0, 0);
            case CLOS1 -> new Coordinate(Level.CLOS2, l6, 0, 0, 0);
            case CLOS2 -> throw new IllegalStateException("the L6 root has no parent");
        };
    }

    /** The {@code index}-th child one level down. */
    public Coordinate child(int index) {
        return switch (level) {
            case CLOS2 -> new Coordinate(Level.CLOS1, l6, index, 0, 0);
            case CLOS1 -> new Coordinate(Level.POD, l6, l5, index, 0);
            case POD -> new Coordinate(Level.HOST, l6, l5, l4, index);
            case HOST -> throw new IllegalStateException("an L3 host has no child nodes");
        };
    }

    /** This node's index among its siblings. */
    public int indexInParent() {
        return switch (level) {
            case HOST -> l3;
            case POD -> l4;
            case CLOS1 -> l5;
            case CLOS2 -> l6;
        };
    }

    /**
     * Linqu's global id of an L3 host, {@code (l5 * podsPerClos1 + l4) * hostsPerPod + l3}: l5·64 + l4·16 + l3 for
     * the reference fan-out (4 pods of 16 hosts).
     */
    public int globalId(int podsPerClos1, int hostsPerPod) {
        if (level != Level.HOST) {
            throw new IllegalStateException("only L3 hosts have a global id; " + this + " is L" + level.number());
        }
        return (l5 * podsPerClos1 + l4) * hostsPerPod + l3;
    }

    /** The 40-bit packing the wire carries: level(8) l6(8) l5(8) l4(8) l3(16), in the low 48 bits. */
    public long pack() {
        return (long) level.number() << 40 | (long) l6 << 32 | (long) l5 << 24 | (long) l4 << 16 | l3;
    }

    public static Coordinate unpack(long packed) {
        if (packed >>> 48 != 0) {
            throw new IllegalArgumentException("packed coordinate 0x" + Long.toHexString(packed)
                    + " uses bits above 47");
        }
        return new Coordinate(Level.of((int) (packed >>> 40) & 0xFF), (int) (packed >>> 32) & 0xFF,
                (int) (packed >>> 24) & 0xFF, (int) (packed >>> 16) & 0xFF, (int) packed & 0xFFFF);
    }

    @Override
    public String toString() {
        return describe(level, l6, l5, l4, l3);
    }

    private static String describe(Level level, int l6, int l5, int l4, int l3) {
        return "L" + (level == null ? "?" : level.number()) + "(" + l6 + "," + l5 + "," + l4 + "," + l3 + ")";
    }
}
