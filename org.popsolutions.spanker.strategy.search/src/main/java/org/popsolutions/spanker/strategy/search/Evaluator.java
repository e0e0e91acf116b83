package org.popsolutions.spanker.strategy.search;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.IntFunction;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.HostLinkTraffic;
import org.popsolutions.spanker.api.plan.PromptPass;

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
 * <li>The host's round trips over the GbE host link per token ({@link #hostIn}, {@link #hostOut}), each its latency
 *     plus its bytes at the host link's rate: the token and position written to every card that runs a program
 *     (back to back, one latency) with the programs' SUBMITs behind them; the cards' COMPLETEs; a READ of the head's
 *     input (the host checks it for non-finite values); and one READ per head card of its rows of the logits, one
 *     after another. The SUBMITs' program bytes are not counted (docs/planning.md says why).</li>
 * <li>Prefill of T tokens, two ways, the cheaper counted: <em>batched</em> (the runtime's passes of at most
 *     {@value #PROMPT_PASS} tokens; in each pass every stage takes all the pass's tokens as one matrix-matrix
 *     product, so a card streams its weights from DDR once per pass, not once per token — rev-A's rule, a product
 *     takes at least its weight bytes at the DDR rate, and the emulated card paces a MAT_MUL so; per pass one
 *     allreduce of the pass's hidden vectors per collective and one hand-off of them between groups, the latency
 *     paid once a pass; the head runs once a pass, for its last token. The per-token ops — embedding rows, norms,
 *     rope, attention over the KV cache — are not counted, as in decode: the card's weight streaming bounds them
 *     and the emulator does not pace them) or <em>pipelined</em> (one token per step, consecutive stages overlapping: the sum of the stages' times plus
 *     T − 1 times the slowest). Only the last token's logits leave the cards.</li>
 * </ul>
 */
final class Evaluator {
    /** Tokens per prompt pass: the runtime runs a prompt in passes of at most this many. */
    static final int PROMPT_PASS = PromptPass.MAX_TOKENS;

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
        int active = activeCards(placement);
        Terms tokenIn = hostIn(active, 1);
        Terms decode = tokenIn;
        Terms batched = promptHostIn(active);
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
            int[] from = holders;
            Terms inBatch = overPasses(tokens -> handOff(from, group, hidden * tokens));
            double slowest = 0;
            for (CardShard s : shards) {
                long bytes = table.weightBytes(layer, s);
                weights[s.card()] += bytes;
                kv[s.card()] += table.kvCacheBytes(s);
                slowest = Math.max(slowest, bytes / ddr);
            }
            CollectiveAlgorithm fixed = placement.algorithms().get(layer);
            CollectiveAlgorithm one = fixed != null ? fixed : network.best(group, hidden);
            CollectiveAlgorithm many = fixed != null ? fixed : network.best(group, (double) hidden * fullPass());
            Terms collectives = group.length > 1 ? network.allReduce(group, hidden, one).times(2) : Terms.ZERO;
            Terms collectivesBatch = group.length > 1
                    ? overPasses(tokens -> network.allReduce(group, (double) hidden * tokens, many).times(2))
                    : Terms.ZERO;
            Terms block = new Terms(slowest, 0, 0, 0).plus(collectives);
            used[layer] = group.length > 1 ? one : null;
            layerCompute[layer] = slowest;
            layerCommunication[layer] = in.plus(collectives).total();
            decode = decode.plus(in).plus(block);
            batched = batched.plus(inBatch).plus(new Terms(slowest * promptPasses(), 0, 0, 0)).plus(collectivesBatch);
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
        Terms tail = handOff(holders, head, hidden).plus(new Terms(headSlowest, 0, 0, 0));
        Terms out = hostOut(head.length);
        decode = decode.plus(tail).plus(out);
        batched = batched.plus(tail.plus(out).times(promptPasses()));
        Terms sum = Terms.ZERO;
        Terms slowestStage = Terms.ZERO;
        for (Terms t : stages) {
            sum = sum.plus(t);
            if (t.total() > slowestStage.total()) {
                slowestStage = t;
            }
        }
        Terms pipelined = sum.plus(slowestStage.times(prompt - 1)).plus(tail).plus(out);
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

    /** The cards that run a program each token: those holding the embedding, a block's shard or head rows. */
    static int activeCards(Placement placement) {
        BitSet used = new BitSet();
        Arrays.stream(placement.embeddingCards()).forEach(used::set);
        for (int layer = 0; layer < placement.layers().size(); layer++) {
            Arrays.stream(placement.cards(layer)).forEach(used::set);
        }
        Arrays.stream(placement.headCards()).forEach(used::set);
        return used.cardinality();
    }

    /**
     * Before the cards compute {@code tokens} tokens: the host writes each token's step (token id, position) to every
     * active card, back to back (one latency), and SUBMITs the programs behind the writes.
     */
    Terms hostIn(int activeCards, int tokens) {
        return new Terms(0, 0, 0, network.hostSeconds(HostLinkTraffic.STEP_BYTES * tokens * activeCards));
    }

    /** A prompt's {@link #hostIn} over its passes of at most {@value #PROMPT_PASS} tokens. */
    Terms promptHostIn(int activeCards) {
        return overPasses(tokens -> hostIn(activeCards, tokens));
    }

    /** Tokens in a full prompt pass: the prompt's, up to {@value #PROMPT_PASS}. */
    int fullPass() {
        return Math.max(1, Math.min(prompt, PROMPT_PASS));
    }

    /** A cost summed over the prompt's passes, given each pass's token count. */
    Terms overPasses(IntFunction<Terms> pass) {
        Terms sum = Terms.ZERO;
        int done = 0;
        do {
            int tokens = Math.max(1, Math.min(PROMPT_PASS, prompt - done));
            sum = sum.plus(pass.apply(tokens));
            done += tokens;
        } while (done < prompt);
        return sum;
    }

    int promptPasses() {
        return Math.max(1, (prompt + PROMPT_PASS - 1) / PROMPT_PASS);
    }

    /**
     * After the cards computed (a token, or a prompt pass's last token): the COMPLETEs reach the host (the cards'
     * in parallel, one latency), the host READs the head's input from one card and then each head card's rows of the
     * logits, one after another: a request and a reply each.
     */
    Terms hostOut(int headCards) {
        double seconds = network.hostSeconds(HostLinkTraffic.COMPLETE_BYTES) + read(table.hiddenBytes());
        for (int i = 0; i < headCards; i++) {
            seconds += read(table.logitsShareBytes(i, headCards));
        }
        return new Terms(0, 0, 0, seconds);
    }

    private double read(long bytes) {
        return network.hostSeconds(HostLinkTraffic.READ_REQUEST_BYTES) + network.hostSeconds(bytes);
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
