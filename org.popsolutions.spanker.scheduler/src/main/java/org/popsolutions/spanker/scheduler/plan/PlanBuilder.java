package org.popsolutions.spanker.scheduler.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.popsolutions.spanker.api.CardMemoryExceededException;
import org.popsolutions.spanker.api.NoSailsException;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveEstimate;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.model.TensorShape;
import org.popsolutions.spanker.api.plan.CardLoad;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.HostLinkTraffic;
import org.popsolutions.spanker.api.plan.LayerPlacement;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plan.PlanOptions;
import org.popsolutions.spanker.api.plan.TensorPlacement;
import org.popsolutions.spanker.api.strategy.CandidateCost;
import org.popsolutions.spanker.api.strategy.PartitionStrategy;
import org.popsolutions.spanker.api.strategy.Strategy;
import org.popsolutions.spanker.api.strategy.StrategyDecision;
import org.popsolutions.spanker.api.strategy.TileShape;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.model.llama.LlamaShards;
import org.popsolutions.spanker.scheduler.collective.Routes;

/**
 * Builds a {@link Plan} for one decode stream.
 *
 * <p>Each block's seven matmuls are put to the active strategy as tiles of the decode step (m = output rows,
 * n = 4 bytes of one float output per row, k = bytes of a stored row, bpe = 1, so that weight_bytes is the
 * tensor's stored size and activation_bytes its float output). A block whose summed TensorParallel cost is
 * not above its ModelParallel cost is split Megatron-style over every card, if its tensors can be split on
 * block boundaries; otherwise it runs whole on one card, and such blocks are spread over the cards as
 * contiguous pipeline ranges of about equal bytes.
 */
final class PlanBuilder {
    private static final String[] MATMULS = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up",
        "ffn_down"};
    private static final String[] NORMS = {"attn_norm", "ffn_norm"};

    private final ModelShape model;
    private final Topology topology;
    private final PlanOptions options;
    private final PartitionStrategy strategy;
    private final BandwidthModel bandwidth;
    private final LinkModel links;
    private final int p;
    private final List<String> notes = new ArrayList<>();
    private final long[] weightBytes;
    private final long[] kvBytes;
    private final List<TensorPlacement> tensors = new ArrayList<>();

    PlanBuilder(ModelShape model, Topology topology, PlanOptions options, PartitionStrategy strategy,
            BandwidthModel bandwidth, LinkModel links) {
        this.model = model;
        this.topology = topology;
        this.options = options;
        this.strategy = strategy;
        this.bandwidth = bandwidth;
        this.links = links;
        this.p = topology.cardCount();
        if (p == 0) {
            throw new NoSailsException("cannot plan " + model.name() + ": no Sails card is registered");
        }
        this.weightBytes = new long[p];
        this.kvBytes = new long[p];
    }

    Plan build() {
        List<Strategy> decisions = new ArrayList<>();
        for (int layer = 0; layer < model.layers(); layer++) {
            decisions.add(decide(layer));
        }
        int[] pipelineCard = assignPipelineCards(decisions);
        List<LayerPlacement> layers = new ArrayList<>();
        double compute = 0;
        double communication = 0;
        int firstCard = decisions.isEmpty() || decisions.get(0).equals(Strategy.TENSOR_PARALLEL) ? 0 : pipelineCard[0];
        place(require("token_embd.weight"), -1, Strategy.REPLICATE, "whole", List.of(firstCard));
        List<Integer> previousCards = List.of(firstCard);
        for (int layer = 0; layer < model.layers(); layer++) {
            List<CardShard> shards = decisions.get(layer).equals(Strategy.TENSOR_PARALLEL) ? tensorParallelShards()
                    : List.of(new CardShard(pipelineCard[layer], 0, model.kvHeads(), 0, model.feedForward()));
            LayerPlacement placement = placeLayer(layer, decisions.get(layer), shards, previousCards);
            layers.add(placement);
            compute += placement.computeSeconds();
            communication += placement.communicationSeconds();
            previousCards = placement.cards();
        }
        List<Integer> outputCards = previousCards;
        compute += placeOutput(outputCards);
        double host = hostSecondsPerToken(outputCards.size());
        List<CardLoad> loads = new ArrayList<>();
        for (int card = 0; card < p; card++) {
            loads.add(new CardLoad(card, weightBytes[card], kvBytes[card], options.cardMemoryBytes()));
        }
        for (CardLoad load : loads) {
            if (load.totalBytes() > load.capacityBytes()) {
                throw new CardMemoryExceededException(load.card(), load.totalBytes(), load.capacityBytes(),
                        "the plan by '" + strategy.name() + "' for " + model.name() + " on " + p + " cards puts "
                                + load.weightBytes() + " bytes of weights and " + load.kvCacheBytes()
                                + " bytes of KV cache there; use more cards, a smaller quantization, a shorter"
                                + " context, or a larger card memory");
            }
        }
        return new Plan(strategy.name(), model.name(), p, topology.kind(), layers, tensors, loads, firstCard,
                outputCards, compute, communication, host, links.loadSeconds(weightBytes), notes);
    }

    /**
     * The host link's round trips per token, each its latency plus its bytes (as the searching planner's Evaluator
     * counts them): the step (i32 token, i32 position) written to every card that holds weights, back to back, with
     * the SUBMITs behind; the COMPLETEs (28 bytes); a READ (20-byte request) of the head's input; then one READ per
     * output card of its rows of the logits, one after another. Called once the weights are placed.
     */
    private double hostSecondsPerToken(int outputCards) {
        long active = Arrays.stream(weightBytes).filter(b -> b > 0).count();
        double seconds = links.hostTransferSeconds(HostLinkTraffic.STEP_BYTES * active)
                + links.hostTransferSeconds(HostLinkTraffic.COMPLETE_BYTES)
                + links.hostTransferSeconds(HostLinkTraffic.READ_REQUEST_BYTES)
                + links.hostTransferSeconds((long) model.embedding() * Float.BYTES);
        for (int i = 0; i < outputCards; i++) {
            long rows = LlamaShards.headRows(model.vocabulary(), i, outputCards).length();
            seconds += links.hostTransferSeconds(HostLinkTraffic.READ_REQUEST_BYTES)
                    + links.hostTransferSeconds(rows * Float.BYTES);
        }
        return seconds;
    }

    /** TENSOR_PARALLEL or PIPELINE for one block, by the strategy's costs of its matmul tiles. */
    private Strategy decide(int layer) {
        if (p == 1) {
            return Strategy.TENSOR_PARALLEL;
        }
        double tp = 0;
        double mp = 0;
        for (String name : MATMULS) {
            TensorShape t = require(blockTensor(layer, name));
            StrategyDecision d = strategy.pick(new TileShape(t.rows(), Float.BYTES, t.bytesPerRow(), 1), p, bandwidth);
            tp += cost(d, Strategy.TENSOR_PARALLEL);
            mp += cost(d, Strategy.MODEL_PARALLEL);
        }
        if (!(tp <= mp)) {
            return Strategy.PIPELINE;
        }
        Optional<String> obstacle = splitObstacle(layer);
        if (obstacle.isPresent()) {
            notes.add("block " + layer + ": tensor parallelism declined, " + obstacle.get() + "; runs whole on one card");
            return Strategy.PIPELINE;
        }
        return Strategy.TENSOR_PARALLEL;
    }

    private static double cost(StrategyDecision d, Strategy candidate) {
        return d.candidates().stream().filter(c -> c.strategy().equals(candidate)).mapToDouble(CandidateCost::seconds)
                .findFirst().orElse(Double.POSITIVE_INFINITY);
    }

    /** Why the Megatron split cannot cut this block's row-parallel tensors on block boundaries, if it cannot. */
    private Optional<String> splitObstacle(int layer) {
        TensorShape output = require(blockTensor(layer, "attn_output"));
        TensorShape down = require(blockTensor(layer, "ffn_down"));
        int groupWidth = model.heads() / model.kvHeads() * model.headDimension();
        for (CardShard shard : tensorParallelShards()) {
            long column = (long) shard.kvHeadStart() * groupWidth;
            if (column % output.blockValues() != 0) {
                return Optional.of("attn_output columns of a KV-head group (" + groupWidth + " values) do not align to "
                        + output.type() + " blocks of " + output.blockValues());
            }
            if (shard.feedForwardStart() % down.blockValues() != 0) {
                return Optional.of("ffn_down columns (" + model.feedForward() + ") do not split on " + down.type()
                        + " blocks of " + down.blockValues());
            }
        }
        return Optional.empty();
    }

    /** Key/value heads split evenly; feed-forward rows split on the ffn_down block grid. */
    private List<CardShard> tensorParallelShards() {
        int[] all = new int[p];
        for (int card = 0; card < p; card++) {
            all[card] = card;
        }
        return LlamaShards.evenShards(model, all);
    }

    /** Pipeline blocks go to cards in contiguous ranges of about equal bytes, in block order. */
    private int[] assignPipelineCards(List<Strategy> decisions) {
        int[] card = new int[decisions.size()];
        long total = 0;
        for (int layer = 0; layer < decisions.size(); layer++) {
            if (decisions.get(layer).equals(Strategy.PIPELINE)) {
                total += layerBytes(layer);
            }
        }
        long before = 0;
        for (int layer = 0; layer < decisions.size(); layer++) {
            if (decisions.get(layer).equals(Strategy.PIPELINE)) {
                long bytes = layerBytes(layer);
                // The card whose share the block's midpoint falls in.
                card[layer] = total == 0 ? 0 : (int) Math.min(p - 1, (before + bytes / 2) * p / total);
                before += bytes;
            }
        }
        return card;
    }

    private long layerBytes(int layer) {
        return model.layerTensors(layer).stream().mapToLong(TensorShape::bytes).sum();
    }

    private LayerPlacement placeLayer(int layer, Strategy decision, List<CardShard> shards, List<Integer> previous) {
        boolean split = decision.equals(Strategy.TENSOR_PARALLEL) && shards.size() > 1;
        long[] bytesOnCard = new long[p];
        for (String name : LlamaShards.ROW_SPLIT) {
            TensorShape t = require(blockTensor(layer, name));
            List<Long> perCard = new ArrayList<>();
            for (CardShard s : shards) {
                long bytes = LlamaShards.shardBytes(model, t, name, s);
                perCard.add(bytes);
                bytesOnCard[s.card()] += bytes;
            }
            addPlacement(t, layer, split ? Strategy.TENSOR_PARALLEL : decision, split ? "rows" : "whole", shards,
                    perCard);
        }
        for (String name : LlamaShards.COLUMN_SPLIT) {
            TensorShape t = require(blockTensor(layer, name));
            List<Long> perCard = new ArrayList<>();
            for (CardShard s : shards) {
                long bytes = LlamaShards.shardBytes(model, t, name, s);
                perCard.add(bytes);
                bytesOnCard[s.card()] += bytes;
            }
            addPlacement(t, layer, split ? Strategy.TENSOR_PARALLEL : decision, split ? "columns" : "whole", shards,
                    perCard);
        }
        for (String name : NORMS) {
            Optional<TensorShape> norm = model.tensor(blockTensor(layer, name));
            if (norm.isPresent()) {
                List<Long> perCard = new ArrayList<>();
                for (CardShard s : shards) {
                    perCard.add(norm.get().bytes());
                    bytesOnCard[s.card()] += norm.get().bytes();
                }
                addPlacement(norm.get(), layer, shards.size() > 1 ? Strategy.REPLICATE : decision, "whole", shards,
                        perCard);
            }
        }
        double compute = 0;
        for (CardShard s : shards) {
            compute = Math.max(compute, bytesOnCard[s.card()] / (double) bandwidth.localDdrBytesPerSecond());
            kvBytes[s.card()] += LlamaShards.kvCacheBytes(model.headDimension(), s, options.contextLength());
        }
        long hidden = (long) model.embedding() * Float.BYTES;
        List<Integer> cards = shards.stream().map(CardShard::card).toList();
        String collective;
        double communication;
        if (split) {
            CollectiveEstimate allReduce = links.estimate(CollectiveKind.ALL_REDUCE, CollectiveAlgorithm.AUTO,
                    topology.kind(), p, hidden);
            communication = 2 * allReduce.totalSeconds();
            collective = "2 x allreduce " + hidden + " B (" + allReduce.algorithm().label() + ")";
        } else {
            communication = handOffSeconds(previous, cards, hidden);
            collective = communication > 0 ? "hand-off " + hidden + " B from card " + previous.get(0) : "none";
        }
        return new LayerPlacement(layer, split ? Strategy.TENSOR_PARALLEL : (p == 1 ? Strategy.TENSOR_PARALLEL
                : Strategy.PIPELINE), shards, collective, compute, communication);
    }

    /** Time to bring the hidden state from the previous block's cards to this block's. */
    private double handOffSeconds(List<Integer> from, List<Integer> to, long bytes) {
        if (from.containsAll(to)) {
            return 0;
        }
        if (to.size() == 1) {
            int hops = Routes.path(topology.kind(), p, from.get(0), to.get(0)).length - 1;
            return hops * links.parameters().hopLatencySeconds() + bytes / links.flowControl().sustainedBytesPerSecond();
        }
        return links.estimate(CollectiveKind.BROADCAST, CollectiveAlgorithm.AUTO, topology.kind(), p, bytes)
                .totalSeconds();
    }

    /** The output norm and head on the last block's cards, the head's vocabulary rows split among them. */
    private double placeOutput(List<Integer> cards) {
        model.tensor("output_norm.weight").ifPresent(norm -> place(norm, -1,
                cards.size() > 1 ? Strategy.REPLICATE : Strategy.PIPELINE, "whole", cards));
        TensorShape head = model.tensor("output.weight").orElseGet(() -> {
            notes.add("output.weight absent: the head is tied to token_embd, placed again on the output cards");
            return require("token_embd.weight");
        });
        List<Long> perCard = new ArrayList<>();
        double slowest = 0;
        for (int i = 0; i < cards.size(); i++) {
            long rows = LlamaShards.headRows(head.rows(), i, cards.size()).length();
            long bytes = rows * head.bytesPerRow();
            perCard.add(bytes);
            weightBytes[cards.get(i)] += bytes;
            slowest = Math.max(slowest, bytes / (double) bandwidth.localDdrBytesPerSecond());
        }
        tensors.add(new TensorPlacement(head.name() + (head.name().equals("token_embd.weight") ? " (as output)" : ""),
                -1, cards.size() > 1 ? Strategy.TENSOR_PARALLEL : Strategy.PIPELINE, cards.size() > 1 ? "rows" : "whole",
                cards, perCard));
        return slowest;
    }

    private void place(TensorShape tensor, int layer, Strategy strategy, String split, List<Integer> cards) {
        List<Long> perCard = new ArrayList<>();
        for (int card : cards) {
            perCard.add(tensor.bytes());
            weightBytes[card] += tensor.bytes();
        }
        tensors.add(new TensorPlacement(tensor.name(), layer, strategy, split, cards, perCard));
    }

    private void addPlacement(TensorShape t, int layer, Strategy strategy, String split, List<CardShard> shards,
            List<Long> perCard) {
        List<Integer> cards = new ArrayList<>();
        for (int i = 0; i < shards.size(); i++) {
            cards.add(shards.get(i).card());
            weightBytes[shards.get(i).card()] += perCard.get(i);
        }
        tensors.add(new TensorPlacement(t.name(), layer, strategy, split, cards, perCard));
    }


    private static String blockTensor(int layer, String name) {
        return "blk." + layer + "." + name + ".weight";
    }

    private TensorShape require(String name) {
        return model.tensor(name).orElseThrow(() -> new org.popsolutions.spanker.api.InvalidModelException(
                "model " + model.name() + " has no tensor " + name + "; a llama-family model needs it"));
    }
}
