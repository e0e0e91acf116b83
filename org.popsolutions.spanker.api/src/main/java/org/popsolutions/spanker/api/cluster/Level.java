package org.popsolutions.spanker.api.cluster;

/** The hierarchy levels that run as processes (Linqu numbers them 3 to 6; 0 to 2 live inside a host). */
public enum Level {
    HOST(3),
    POD(4),
    CLOS1(5),
    CLOS2(6);

    private final int number;

    Level(int number) {
        this.number = number;
    }

    public int number() {
        return number;
    }

    /** The level whose number is {@code number}; 3 to 6. */
    public static Level of(int number) {
        for (Level level : values()) {
            if (level.number == number) {
                return level;
            }
        }
        throw new IllegalArgumentException("level " + number + " is not a process level (expected 3 to 6)");
    }

    /** The level an orchestrator at this level submits tasks to. */
    public Level below() {
        if (this == HOST) {
            throw new IllegalStateException("L3 hosts are the bottom of the process hierarchy");
        }
        return of(number - 1);
    }
}
