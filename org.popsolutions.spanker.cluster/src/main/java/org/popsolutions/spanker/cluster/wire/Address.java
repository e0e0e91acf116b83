package org.popsolutions.spanker.cluster.wire;

import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.Level;

/**
 * A sender or target as the header carries it: a level (3 to 6 for nodes, {@value #USER_LEVEL} for a user
 * program outside the hierarchy, such as the console) and l6, l5, l4, l3.
 */
public record Address(int level, int l6, int l5, int l4, int l3) {
    public static final int USER_LEVEL = 7;
    public static final Address USER = new Address(USER_LEVEL, 0, 0, 0, 0);

    public Address {
        if (level < 3 || level > USER_LEVEL) {
            throw new WireException("level " + level + " is not a process level (expected 3 to 6, or 7 for a user)");
        }
        if (level == USER_LEVEL && (l6 | l5 | l4 | l3) != 0) {
            throw new WireException("a user address carries coordinates; they must be 0");
        }
    }

    public static Address of(Coordinate coordinate) {
        return new Address(coordinate.level().number(), coordinate.l6(), coordinate.l5(), coordinate.l4(),
                coordinate.l3());
    }

    public boolean isUser() {
        return level == USER_LEVEL;
    }

    /** The node this address names; a user address names none. */
    public Coordinate coordinate() {
        if (isUser()) {
            throw new WireException("a user address names no node");
        }
        try {
            return new Coordinate(Level.of(level), l6, l5, l4, l3);
        } catch (IllegalArgumentException e) {
            throw new WireException(e.getMessage());
        }
    }

    @Override
    public String toString() {
        return isUser() ? "user" : coordinate().toString();
    }
}
