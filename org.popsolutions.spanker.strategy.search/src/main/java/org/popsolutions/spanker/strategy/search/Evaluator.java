package org.popsolutions.spanker.strategy.search;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.CardShard;

/**
 * The cost model, applied to a whole placement. Every plan (the chosen one and every baseline) is costed here.
 *
 * <ul>
 * <li>Compute is DDR-bound: a card streams its share of the weights once per token, at the local DDR rate; a
 *     step lasts as long as its slowest card.</li>
 * <li>A tensor-parallel block runs two allreduces of the hidden vector (after attention and after the MLP) on its
 *     group, by its algorithm, over the UP links ({@link Network}).</li>
 * <li>When a block's cards do not all hold the hidden vector, it is handed off from the holder last in chain
 *     order to the cards missing it, in one step.</li>
 * <li>The host sends the token id to every embedding card and receives the logits (vocabulary × 4 bytes) over the
 *     GbE host link; the head's rows are split evenly over its cards.</li>
 * <li>Prefill of T tokens, two ways, the cheaper counted: <em>batched</em> (each stage takes the whole prompt:
 *     T times the weight streaming, one allreduce of T hidden vectors per collective, so the latency is paid once)
 *     or <em>pipelined</em> (one token per step, consecutive stages overlapping: the sum of the stages' times plus
 *     T − 1 times the slowest). Only the last token's logits leave the cards.</li>
 * </ul>
 */
final class Evaluator {
    private final LayerTable table;
    private final Network network;
    private final double ddr;
    private final long capacity;
    private final int prompt;

    Evaluator(LayerTable table, Network network, double ddrBytesPerSecond, long capacityBytes, int promptTokens) {
        this.table = table;
        this.network = network;
        this.ddr = ddrBytesPerSecond;
        this.capacity = capacityBytes;
        this.prompt = promptTokens;
    }

    LayerTable table() {
        return table;
    }

    Network network() {
        return network;
    }

    double ddr() {
        return ddr;
    }

    long capacity() {
        return capacity;
    }

    int prompt() {
        return prompt;
    }

    /** What the model predicts for a placement. */
    record Evaluation(Terms decode, Terms batched, Terms pipelined, long[] weightBytes, long[] kvBytes,
            List<String> violations, double[] layerCompute, double[] layerCommunication, CollectiveAlgorithm[] used) {
        Terms prefill() {
            return batched.total() <= pipelined.total() ? batched : pipelined;
        }

        String prefillRegime() {
            return batched.total() <= pipelined.total() ? "batched" : "pipelined";
        }
    }

    Evaluation evaluate(Placement placement) {
        int cards = network.cards();
        long hidden = table.hiddenBytes();
        long[] weights = new long[cards];
        long[] kv = new long[cards];
        int layers = placement.layers().size();
        double[] layerCompute = new double[layers];
        double[] layerCommunication = new double[layers];
        CollectiveAlgorithm[] used = new CollectiveAlgorithm[layers];

        int[] embedding = placement.embeddingCards();
        Terms tokenIn = new Terms(0, 0, 0, network.hostSeconds(4L * embedding.length));
        Terms decode = tokenIn;
        Terms batched = new Terms(0, 0, 0, network.hostSeconds(4L * embedding.length * prompt));
        List<Terms> stages = new ArrayList<>(List.of(tokenIn));
        Terms stage = null;
        int[] holders = embedding;
        for (int card : embedding) {
            weights[card] += table.embedding().bytes();
        }
        for (int layer = 0; layer < layers; layer++) {
            List<CardShard> shards = placement.layers().get(layer);
            int[] group = placement.cards(layer);
            boolean sameCards = Arrays.equals(group, holders);
            Terms in = handOff(holders, group, hidden);
            Terms inBatch = handOff(holders, group, hidden * prompt);
            double slowest = 0;
            for (CardShard s : shards) {
                long bytes = table.weightBytes(layer, s);
                weights[s.card()] += bytes;
                kv[s.card()] += table.kvCacheBytes(s);
                slowest = Math.max(slowest, bytes / ddr);
            }
            CollectiveAlgorithm fixed = placement.algorithms().get(layer);
            CollectiveAlgorithm one = fixed != null ? fixed : network.best(group, hidden);
            CollectiveAlgorithm many = fixed != null ? fixed : network.best(group, (double) hidden * prompt);
            Terms collectives = group.length > 1 ? network.allReduce(group, hidden, one).times(2) : Terms.ZERO;
            Terms collectivesBatch = group.length > 1
                    ? network.allReduce(group, (double) hidden * prompt, many).times(2) : Terms.ZERO;
            Terms block = new Terms(slowest, 0, 0, 0).plus(collectives);
            used[layer] = group.length > 1 ? one : null;
            layerCompute[layer] = slowest;
            layerCommunication[layer] = in.plus(collectives).total();
            decode = decode.plus(in).plus(block);
            batched = batched.plus(inBatch).plus(new Terms(slowest * prompt, 0, 0, 0)).plus(collectivesBatch);
            if (!sameCards || stage == null) {
                if (stage != null) {
                    stages.add(stage);
                }
                stage = in;
            }
            stage = stage.plus(block);
            holders = group;
        }
        if (stage != null) {
            stages.add(stage);
        }
        int[] head = placement.headCards();
        double headSlowest = 0;
        for (int i = 0; i < head.length; i++) {
            long bytes = table.headShareBytes(i, head.length);
            weights[head[i]] += bytes;
            headSlowest = Math.max(headSlowest, bytes / ddr);
        }
        Terms tail = handOff(holders, head, hidden).plus(new Terms(headSlowest, 0, 0, 0))
                .plus(new Terms(0, 0, 0, network.hostSeconds(table.logitsBytes())));
        decode = decode.plus(tail);
        batched = batched.plus(tail);
        Terms sum = Terms.ZERO;
        Terms slowestStage = Terms.ZERO;
        for (Terms t : stages) {
            sum = sum.plus(t);
            if (t.total() > slowestStage.total()) {
                slowestStage = t;
            }
        }
        Terms pipelined = sum.plus(slowestStage.times(prompt - 1)).plus(tail);
        List<String> violations = new ArrayList<>();
        for (int card = 0; card < cards; card++) {
            if (weights[card] + kv[card] > capacity) {
                violations.add("card " + card + " needs " + (weights[card] + kv[card]) + " bytes (" + weights[card]
                        + " weights, " + kv[card] + " KV cache), holds " + capacity);
            }
        }
        return new Evaluation(decode, batched, pipelined, weights, kv, violations, layerCompute, layerCommunication,
                used);
    }

    /** From the holder last in chain order to the targets that do not hold the hidden vector. */
    Terms handOff(int[] holders, int[] targets, long bytes) {
        int source = -1;
        for (int h : holders) {
            if (source < 0 || network.position(h) > network.position(source)) {
                source = h;
            }
        }
        int[] missing = Arrays.stream(targets).filter(t -> Arrays.stream(holders).noneMatch(h -> h == t)).toArray();
        return missing.length == 0 ? Terms.ZERO : network.handOff(source, missing, bytes);
    }
}
