package org.popsolutions.spanker.device.mock.card;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.ggml.ops.OpDispatch;
import org.popsolutions.spanker.ggml.ops.OpHandler;

/**
 * How much of a job is still ahead of each op: the heaviest chain of ops from it to the job's end, following each
 * card's program and each message from the op that puts it on a link to the op that takes it off. Worked out once
 * per prepared job, so the workers can run first the card whose next op starts the longest chain (a card that runs
 * its fold chain late leaves the other worker idle at the end).
 *
 * <p>A link is a FIFO and a job's programs start with their links empty, so the k-th message put on a link is the
 * k-th taken from it. An op weighs the bytes it passes over, plus one (so a chain of light link ops still counts).
 */
final class CriticalPath {
    private CriticalPath() {
    }

    /**
     * Per card ({@code programs[c]} on {@code cards[c]}, null for none), per op: the weight of the heaviest chain
     * from that op to the job's end. Null when the messages do not form a chain that can finish (a program waits for
     * a message only sent after it): then no order is better than another.
     */
    static long[][] ranks(MockCard[] cards, Program[] programs) {
        int n = cards.length;
        int[] base = new int[n + 1];
        for (int c = 0; c < n; c++) {
            base[c + 1] = base[c] + (programs[c] == null ? 0 : programs[c].ops().size());
        }
        int nodes = base[n];
        long[] weight = new long[nodes];
        // per link: who puts messages on it and who takes them off, each in program order
        Map<MockLink, List<Integer>> puts = new IdentityHashMap<>();
        Map<MockLink, List<Integer>> takes = new IdentityHashMap<>();
        for (int c = 0; c < n; c++) {
            if (programs[c] == null) {
                continue;
            }
            List<Op> ops = programs[c].ops();
            for (int i = 0; i < ops.size(); i++) {
                int node = base[c] + i;
                Op op = ops.get(i);
                weight[node] = 1 + OpDispatch.dispatch(op, BYTES_PASSED);
                if (op instanceof Op.Send s) {
                    note(puts, port(cards[c], s.port()).out, node);
                } else if (op instanceof Op.Receive r) {
                    note(takes, port(cards[c], r.port()).in, node);
                } else if (op instanceof Op.Forward f) {
                    note(takes, port(cards[c], f.fromPort()).in, node);
                    note(puts, port(cards[c], f.toPort()).out, node);
                }
            }
        }
        int[] messageTo = new int[nodes];
        Arrays.fill(messageTo, -1);
        int[] incoming = new int[nodes];
        for (int c = 0; c < n; c++) {
            for (int node = base[c] + 1; node < base[c + 1]; node++) {
                incoming[node]++;
            }
        }
        for (Map.Entry<MockLink, List<Integer>> e : puts.entrySet()) {
            List<Integer> taken = takes.getOrDefault(e.getKey(), List.of());
            List<Integer> put = e.getValue();
            for (int k = 0; k < Math.min(put.size(), taken.size()); k++) {
                messageTo[put.get(k)] = taken.get(k);
                incoming[taken.get(k)]++;
            }
        }
        int[] cardOf = new int[nodes];
        for (int c = 0; c < n; c++) {
            for (int node = base[c]; node < base[c + 1]; node++) {
                cardOf[node] = c;
            }
        }
        // an order in which every op comes after what it waits for (Kahn's), then the chains from the end back
        int[] order = new int[nodes];
        int head = 0;
        int tail = 0;
        for (int node = 0; node < nodes; node++) {
            if (incoming[node] == 0) {
                order[tail++] = node;
            }
        }
        while (head < tail) {
            int node = order[head++];
            int next = node + 1 < base[cardOf[node] + 1] ? node + 1 : -1;
            if (next >= 0 && --incoming[next] == 0) {
                order[tail++] = next;
            }
            int to = messageTo[node];
            if (to >= 0 && --incoming[to] == 0) {
                order[tail++] = to;
            }
        }
        if (tail < nodes) {
            return null;
        }
        long[] rank = new long[nodes];
        for (int k = nodes - 1; k >= 0; k--) {
            int node = order[k];
            long after = 0;
            if (node + 1 < base[cardOf[node] + 1]) {
                after = rank[node + 1];
            }
            if (messageTo[node] >= 0) {
                after = Math.max(after, rank[messageTo[node]]);
            }
            rank[node] = weight[node] + after;
        }
        long[][] ranks = new long[n][];
        for (int c = 0; c < n; c++) {
            if (programs[c] != null) {
                ranks[c] = Arrays.copyOfRange(rank, base[c], base[c + 1]);
            }
        }
        return ranks;
    }

    private static void note(Map<MockLink, List<Integer>> byLink, MockLink link, int node) {
        byLink.computeIfAbsent(link, k -> new ArrayList<>()).add(node);
    }

    private static MockPort port(MockCard card, int port) {
        // an op naming a port the card lacks fails when it runs; here it only cannot be followed
        return port >= 0 && port < card.ports.length ? card.ports[port] : NOWHERE;
    }

    private static final MockPort NOWHERE = new MockPort(null, new MockLink(-1, -1, null), new MockLink(-1, -1, null));

    /**
     * The bytes an op passes over: a fold or copy its operand, a product its weights, a send that carries a copy its
     * values (a larger one is lent, and a forward hands the message on: nothing passed over).
     */
    private static final OpHandler<Long, RuntimeException> BYTES_PASSED = new OpHandler<>() {
        @Override
        public Long embeddingRow(Op.EmbeddingRow op) {
            return op.out().bytes();
        }

        @Override
        public Long matMul(Op.MatMul op) {
            return op.weights().bytes() + op.out().bytes();
        }

        @Override
        public Long rmsNorm(Op.RmsNorm op) {
            return op.out().bytes();
        }

        @Override
        public Long rope(Op.Rope op) {
            return op.vectors().bytes();
        }

        @Override
        public Long attention(Op.Attention op) {
            return op.keyCache().bytes() + op.valueCache().bytes();
        }

        @Override
        public Long swiGlu(Op.SwiGlu op) {
            return op.out().bytes();
        }

        @Override
        public Long add(Op.Add op) {
            return op.out().bytes();
        }

        @Override
        public Long copy(Op.Copy op) {
            return op.to().bytes();
        }

        @Override
        public Long send(Op.Send op) {
            return op.values().bytes() > MockProgram.CARRY_BYTES ? 0L : op.values().bytes();
        }

        @Override
        public Long receive(Op.Receive op) {
            return op.values().bytes();
        }

        @Override
        public Long forward(Op.Forward op) {
            return 0L;
        }

        @Override
        public Long reduce(Op.Reduce op) {
            return op.into().bytes();
        }

        @Override
        public Long tagOrigins(Op.TagOrigins op) {
            return op.values().bytes();
        }

        @Override
        public Long divide(Op.Divide op) {
            return op.values().bytes();
        }
    };
}
