package org.popsolutions.spanker.ggml.llama;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.popsolutions.spanker.api.BadDimsException;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.TopologyMismatchException;
import org.popsolutions.spanker.api.collective.CollectiveEngine;
import org.popsolutions.spanker.api.collective.CollectiveOutcome;
import org.popsolutions.spanker.api.collective.CollectiveRequest;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.LayerPlacement;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.Kernels;

/**
 * The llama forward pass over the cards of a {@link Plan}, one token at a time. A single-card plan runs the same
 * code: the plain forward pass is the one-shard case of every step.
 *
 * <pre>
 * x = token_embd[token]                                        on plan.firstCard
 * for each block:
 *     hand x to the block's cards (a copy per card that lacks it)
 *     every card c of the block, at once:  a_c = W_o[:, heads_c] · attention_c(rmsnorm(x))   (own KV cache)
 *     a = Σ_c a_c   (AllReduce SUM through the CollectiveEngine; nothing to do for one card)
 *     x = x + a     on every card of the block
 *     every card c:                        m_c = W_down[:, ff_c] · (silu(W_gate[ff_c]·xn) · W_up[ff_c]·xn)
 *     m = Σ_c m_c;  x = x + m
 * hand x to the output cards; each computes rmsnorm(x) and its rows of the head; the host concatenates them
 * </pre>
 *
 * The logits are gathered by plain copies to the host (in hardware they travel over the host link, not card to
 * card), not by an AllGather.
 */
public final class ShardedLlama implements AutoCloseable {
    /** How to run: activation handling, row threads per card, tokens the KV caches hold, allreduce algorithm. */
    public record Options(DotMode mode, int threadsPerCard, int contextLength, CollectiveAlgorithm algorithm) {
        public Options {
            Objects.requireNonNull(mode, "mode");
            Objects.requireNonNull(algorithm, "algorithm");
            if (threadsPerCard < 1) {
                throw new IllegalArgumentException("threads per card must be >= 1, got " + threadsPerCard);
            }
            if (contextLength < 1) {
                throw new IllegalArgumentException("context length must be >= 1, got " + contextLength);
            }
        }
    }

    /** Time and traffic since the last {@link #resetStats()}. */
    public record Stats(int tokens, long wallNanos, long[] cardComputeNanos, long collectiveNanos, int collectives,
            long collectiveBytes, long handOffNanos, int handOffs, long handOffBytes) {
    }

    private final LlamaConfig config;
    private final Plan plan;
    private final Topology topology;
    private final CollectiveEngine engine;
    private final Options options;
    private final CardRuntime[] cards;

    private int tokens;
    private long wallNanos;
    private long collectiveNanos;
    private int collectives;
    private long collectiveBytes;
    private long handOffNanos;
    private int handOffs;
    private long handOffBytes;
    private CollectiveAlgorithm lastAlgorithm;

    /**
     * @param engine runs the AllReduces of tensor-parallel blocks; may be null when no block has two cards
     */
    public ShardedLlama(GgufFile file, Plan plan, Topology topology, CollectiveEngine engine, Options options) {
        this.config = LlamaConfig.of(file);
        this.plan = plan;
        this.topology = topology;
        this.engine = engine;
        this.options = options;
        check();
        this.cards = new CardRuntime[plan.cards()];
        Kernels kernels = Kernels.best();
        try {
            for (int c = 0; c < cards.length; c++) {
                cards[c] = new CardRuntime(c, options.mode(), options.threadsPerCard(), kernels);
            }
            place(file);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public LlamaConfig config() {
        return config;
    }

    public Plan plan() {
        return plan;
    }

    /** Tokens the KV caches hold. */
    public int contextLength() {
        return options.contextLength();
    }

    /** Bytes of weights each card holds, in card order. */
    public long[] weightBytesPerCard() {
        long[] bytes = new long[cards.length];
        for (CardRuntime c : cards) {
            bytes[c.index] = c.weightBytes();
        }
        return bytes;
    }

    public long[] kvCacheBytesPerCard() {
        long[] bytes = new long[cards.length];
        for (CardRuntime c : cards) {
            bytes[c.index] = c.kvCacheBytes();
        }
        return bytes;
    }

    /** The algorithm the engine picked for the most recent AllReduce, if one ran. */
    public CollectiveAlgorithm lastAlgorithm() {
        return lastAlgorithm;
    }

    private void check() {
        if (plan.cards() != topology.cardCount()) {
            throw new TopologyMismatchException(plan.cards(), topology.cardCount());
        }
        if (plan.layers().size() != config.layers()) {
            throw new InvalidConfigurationException("the plan places " + plan.layers().size() + " blocks; the model has "
                    + config.layers());
        }
        checkCard(plan.firstCard(), "first card");
        if (plan.outputCards().isEmpty()) {
            throw new InvalidConfigurationException("the plan names no output card");
        }
        plan.outputCards().forEach(c -> checkCard(c, "output card"));
        for (int l = 0; l < config.layers(); l++) {
            LayerPlacement placement = plan.layers().get(l);
            if (placement.layer() != l) {
                throw new InvalidConfigurationException("plan entry " + l + " places block " + placement.layer());
            }
            if (placement.shards().isEmpty()) {
                throw new InvalidConfigurationException("block " + l + " has no card");
            }
            List<CardShard> shards = new ArrayList<>(placement.shards());
            for (CardShard s : shards) {
                checkCard(s.card(), "block " + l + " card");
            }
            if (shards.stream().map(CardShard::card).distinct().count() != shards.size()) {
                throw new InvalidConfigurationException("block " + l + " names a card twice");
            }
            checkCover(l, "key/value heads", shards, CardShard::kvHeadStart, CardShard::kvHeadEnd, config.kvHeads());
            checkCover(l, "feed-forward rows", shards, CardShard::feedForwardStart, CardShard::feedForwardEnd,
                    config.feedForward());
        }
    }

    private void checkCard(int card, String what) {
        if (card < 0 || card >= plan.cards()) {
            throw new InvalidConfigurationException("the plan's " + what + " " + card + " is not one of its "
                    + plan.cards() + " cards");
        }
    }

    private static void checkCover(int layer, String what, List<CardShard> shards,
            java.util.function.ToIntFunction<CardShard> start, java.util.function.ToIntFunction<CardShard> end,
            int total) {
        List<CardShard> sorted = new ArrayList<>(shards);
        sorted.sort(Comparator.comparingInt(start).thenComparingInt(end));
        int next = 0;
        for (CardShard s : sorted) {
            if (end.applyAsInt(s) == start.applyAsInt(s)) {
                continue;
            }
            if (start.applyAsInt(s) != next || end.applyAsInt(s) < start.applyAsInt(s)) {
                throw new InvalidConfigurationException("block " + layer + ": the cards' " + what + " do not tile 0.."
                        + total + " (card " + s.card() + " has " + start.applyAsInt(s) + ".." + end.applyAsInt(s)
                        + ", expected a range from " + next + ")");
            }
            next = end.applyAsInt(s);
        }
        if (next != total) {
            throw new InvalidConfigurationException("block " + layer + ": the cards' " + what + " cover 0.." + next
                    + " of 0.." + total);
        }
    }

    /**
     * Each card copies its shard into heap arrays of its own, which the vector kernels read in place (and which
     * makes the per-card memory real), unless the copies would crowd the Java heap: then every card keeps views of
     * the memory-mapped file (same results, slower products).
     */
    private void place(GgufFile file) {
        long planned = plan.cardLoads().stream().mapToLong(l -> l.weightBytes()).sum();
        boolean onHeap = planned < Runtime.getRuntime().maxMemory() / 10 * 6;
        Matrix tokenEmbedding = Matrix.of(file, "token_embd.weight");
        cards[plan.firstCard()].embedding = tokenEmbedding;
        for (LayerPlacement placement : plan.layers()) {
            for (CardShard shard : placement.shards()) {
                cards[shard.card()].blocks.put(placement.layer(),
                        new BlockShard(file, config, placement.layer(), shard, options.contextLength(), onHeap));
            }
        }
        Matrix head = config.tiedOutput() ? tokenEmbedding : Matrix.of(file, "output.weight");
        float[] norm = Matrix.vector(file, "output_norm.weight");
        List<Integer> outputs = plan.outputCards();
        for (int i = 0; i < outputs.size(); i++) {
            CardRuntime card = cards[outputs.get(i)];
            int from = (int) ((long) i * config.vocabulary() / outputs.size());
            int to = (int) ((long) (i + 1) * config.vocabulary() / outputs.size());
            card.outputNorm = norm;
            card.head = head.rows(from, to).onHeap(onHeap);
            card.headFirstRow = from;
        }
    }

    /** Logits of {@code token} at {@code position}; the KV caches remember it for later positions. */
    public float[] forward(int token, int position) {
        if (token < 0 || token >= config.vocabulary()) {
            throw new BadDimsException("token id " + token + " is outside the vocabulary 0.." + (config.vocabulary() - 1));
        }
        if (position < 0 || position >= options.contextLength()) {
            throw new BadDimsException("position " + position + " is outside the context 0.."
                    + (options.contextLength() - 1) + " the KV caches were sized for");
        }
        long start = System.nanoTime();
        int e = config.embedding();
        CardRuntime first = cards[plan.firstCard()];
        onCards(List.of(first), c -> {
            c.hidden = new float[e];
            c.embedding.row(token, c.hidden);
        });
        List<Integer> holders = List.of(first.index);
        for (LayerPlacement placement : plan.layers()) {
            List<CardRuntime> block = placement.cards().stream().map(i -> cards[i]).toList();
            handOff(holders, placement.cards());
            int layer = placement.layer();
            if (block.size() == 1) {
                onCards(block, c -> {
                    BlockShard shard = c.blocks.get(layer);
                    float[] partial = new float[e];
                    shard.attention(c, c.hidden, position, partial);
                    Ops.add(c.hidden, partial);
                    shard.feedForward(c, c.hidden, partial);
                    Ops.add(c.hidden, partial);
                });
            } else {
                float[][] attention = new float[cards.length][];
                onCards(block, c -> {
                    attention[c.index] = new float[e];
                    c.blocks.get(layer).attention(c, c.hidden, position, attention[c.index]);
                });
                allReduce(attention);
                block.forEach(c -> Ops.add(c.hidden, attention[c.index]));
                float[][] feedForward = new float[cards.length][];
                onCards(block, c -> {
                    feedForward[c.index] = new float[e];
                    c.blocks.get(layer).feedForward(c, c.hidden, feedForward[c.index]);
                });
                allReduce(feedForward);
                block.forEach(c -> Ops.add(c.hidden, feedForward[c.index]));
            }
            holders = placement.cards();
        }
        handOff(holders, plan.outputCards());
        float[] logits = new float[config.vocabulary()];
        onCards(plan.outputCards().stream().map(i -> cards[i]).toList(), c -> {
            float[] xn = new float[e];
            Ops.rmsNorm(c.hidden, c.outputNorm, config.rmsEpsilon(), xn);
            NonFiniteValues.inHiddenState(xn, position);
            float[] rows = new float[c.head.rows];
            c.head.times(c.matVec, xn, rows, c.mode);
            System.arraycopy(rows, 0, logits, c.headFirstRow, rows.length);
        });
        tokens++;
        wallNanos += System.nanoTime() - start;
        NonFiniteValues.inLogits(logits, position);
        return logits;
    }

    /** Copies the hidden state to every target card that does not hold it yet; each copy is one hand-off. */
    private void handOff(List<Integer> holders, List<Integer> targets) {
        CardRuntime source = cards[holders.get(0)];
        for (int target : targets) {
            if (!holders.contains(target)) {
                long t0 = System.nanoTime();
                cards[target].hidden = source.hidden.clone();
                handOffNanos += System.nanoTime() - t0;
                handOffs++;
                handOffBytes += (long) source.hidden.length * Float.BYTES;
            }
        }
    }

    /**
     * Sums the block's partial vectors on every card of the block through the collective engine; the topology's
     * other cards take part with zeros (x + 0 = x), so the plan's whole topology is used as given.
     */
    private void allReduce(float[][] partial) {
        if (engine == null) {
            throw new InvalidConfigurationException("a tensor-parallel block needs a collective engine; none is set");
        }
        List<float[]> buffers = new ArrayList<>(cards.length);
        for (int c = 0; c < cards.length; c++) {
            if (partial[c] == null) {
                partial[c] = new float[config.embedding()];
            }
            buffers.add(partial[c]);
        }
        long t0 = System.nanoTime();
        CollectiveOutcome outcome = engine.run(new CollectiveRequest(CollectiveKind.ALL_REDUCE, ReduceOp.SUM, topology,
                buffers, options.algorithm(), 0, false));
        collectiveNanos += System.nanoTime() - t0;
        collectives++;
        collectiveBytes += (long) config.embedding() * Float.BYTES;
        lastAlgorithm = outcome.algorithm();
        for (int c = 0; c < cards.length; c++) {
            float[] result = outcome.results().get(c);
            if (result != partial[c]) {
                System.arraycopy(result, 0, partial[c], 0, result.length);
            }
        }
    }

    /**
     * Runs {@code work} for each card at once and waits for all, counting each card's compute time. Every card but
     * the last runs on its own thread; the last runs on the calling thread, which would otherwise only wait (a
     * thread wake-up saved per step, and none at all for a block on one card).
     */
    private void onCards(List<CardRuntime> targets, Consumer<CardRuntime> work) {
        List<Future<?>> pending = new ArrayList<>(targets.size());
        for (int i = 0; i < targets.size() - 1; i++) {
            CardRuntime card = targets.get(i);
            pending.add(card.thread.submit(() -> timed(card, work)));
        }
        RuntimeException failure = null;
        try {
            timed(targets.get(targets.size() - 1), work);
        } catch (RuntimeException e) {
            failure = e;
        }
        for (Future<?> f : pending) {
            try {
                f.get();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the cards computed", ex);
            } catch (ExecutionException ex) {
                Throwable cause = ex.getCause();
                if (cause instanceof Error err) {
                    throw err;
                }
                if (failure == null) {
                    failure = cause instanceof RuntimeException re ? re : new IllegalStateException(cause);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static void timed(CardRuntime card, Consumer<CardRuntime> work) {
        long t0 = System.nanoTime();
        try {
            work.accept(card);
        } finally {
            card.computeNanos += System.nanoTime() - t0;
        }
    }

    public Stats stats() {
        long[] compute = new long[cards.length];
        for (CardRuntime c : cards) {
            compute[c.index] = c.computeNanos;
        }
        return new Stats(tokens, wallNanos, compute, collectiveNanos, collectives, collectiveBytes, handOffNanos,
                handOffs, handOffBytes);
    }

    public void resetStats() {
        tokens = 0;
        wallNanos = 0;
        collectiveNanos = 0;
        collectives = 0;
        collectiveBytes = 0;
        handOffNanos = 0;
        handOffs = 0;
        handOffBytes = 0;
        for (CardRuntime c : cards) {
            // the card threads are idle between tokens, so this write cannot race with theirs
            c.computeNanos = 0;
        }
    }

    @Override
    public void close() {
        if (cards != null) {
            for (CardRuntime c : cards) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }
}
