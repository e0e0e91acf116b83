package org.popsolutions.spanker.cluster.node;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.Level;

/**
 * The shape of a cluster: one L6 root, {@code clos1} L5 nodes, {@code pods} L4 pods under each, {@code hosts} L3
 * hosts per pod. Nodes are listed depth first (a node, then its subtrees), and a process holds a contiguous run of
 * that list, so siblings tend to share a process and a subtree spreads over few processes.
 */
public record Layout(int clos1, int pods, int hosts) {
    public static final int MAX_FANOUT = 255;

    public Layout {
        check("--l5", clos1, MAX_FANOUT);
        check("--l4", pods, MAX_FANOUT);
        check("--l3", hosts, 0xFFFF);
    }

    private static void check(String option, int value, int max) {
        if (value < 1 || value > max) {
            throw new IllegalArgumentException(option + " must be 1 to " + max + ", was " + value);
        }
    }

    public int hostCount() {
        return clos1 * pods * hosts;
    }

    public int nodeCount() {
        return 1 + clos1 + clos1 * pods + hostCount();
    }

    /** How many nodes of {@code level}. */
    public int count(Level level) {
        return switch (level) {
            case CLOS2 -> 1;
            case CLOS1 -> clos1;
            case POD -> clos1 * pods;
            case HOST -> hostCount();
        };
    }

    /** How many children a node at {@code level} has. */
    public int fanout(Level level) {
        return switch (level) {
            case CLOS2 -> clos1;
            case CLOS1 -> pods;
            case POD -> hosts;
            case HOST -> 0;
        };
    }

    public boolean contains(Coordinate node) {
        if (node.l6() != 0) {
            return false;
        }
        return switch (node.level()) {
            case CLOS2 -> true;
            case CLOS1 -> node.l5() < clos1;
            case POD -> node.l5() < clos1 && node.l4() < pods;
            case HOST -> node.l5() < clos1 && node.l4() < pods && node.l3() < hosts;
        };
    }

    /** Every node, depth first. */
    public List<Coordinate> nodes() {
        List<Coordinate> nodes = new ArrayList<>(nodeCount());
        Coordinate root = Coordinate.root();
        nodes.add(root);
        for (int l5 = 0; l5 < clos1; l5++) {
            Coordinate clos = root.child(l5);
            nodes.add(clos);
            for (int l4 = 0; l4 < pods; l4++) {
                Coordinate pod = clos.child(l4);
                nodes.add(pod);
                for (int l3 = 0; l3 < hosts; l3++) {
                    nodes.add(pod.child(l3));
                }
            }
        }
        return nodes;
    }

    /** The nodes process {@code index} of {@code processes} holds: an even share of the depth-first list. */
    public List<Coordinate> nodesOfProcess(int index, int processes) {
        List<Coordinate> all = nodes();
        int from = (int) ((long) all.size() * index / processes);
        int to = (int) ((long) all.size() * (index + 1) / processes);
        return all.subList(from, to);
    }

    /** One process per node up to 32 nodes; beyond, 16 processes (1105 JVMs would not fit in memory). */
    public int defaultProcesses() {
        return nodeCount() <= 32 ? nodeCount() : 16;
    }

    @Override
    public String toString() {
        return clos1 + "," + pods + "," + hosts;
    }

    public static Layout parse(String text) {
        String[] parts = text.split(",");
        if (parts.length != 3) {
            throw new IllegalArgumentException("layout '" + text + "' must be three numbers l5,l4,l3");
        }
        return new Layout(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()),
                Integer.parseInt(parts[2].trim()));
    }
}
