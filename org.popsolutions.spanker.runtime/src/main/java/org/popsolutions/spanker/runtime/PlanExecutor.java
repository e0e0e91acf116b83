package org.popsolutions.spanker.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.popsolutions.spanker.api.BadDimsException;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.TopologyMismatchException;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.CardGroup;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.CardProvider;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.OutOfCardMemoryException;
import org.popsolutions.spanker.api.card.PreparedJob;
import org.popsolutions.spanker.api.card.Program;
import org.popsolutions.spanker.api.card.SailCard;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.collective.CardCollectives;
import org.popsolutions.spanker.api.collective.CollectiveProgram;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.HostLinkTraffic;
import org.popsolutions.spanker.api.plan.LayerPlacement;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plan.TensorPlacement;
import org.popsolutions.spanker.api.runtime.LoadProgress;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.model.llama.LlamaConfig;
import org.popsolutions.spanker.model.llama.LlamaShards;
import org.popsolutions.spanker.model.llama.NonFiniteValues;

/**
 * Runs a {@link Plan} of a llama model on cards, through the card runtime SPI only: each card's shard goes to it
 * by host-link writes, each token is one program per card (built once, run for every token: the host writes only
 * the token and its position), tensor-parallel blocks join their partial sums with AllReduce ops spliced into the
 * programs ({@link CardCollectives}), the hidden state travels between pipeline stages card to card over the links,
 * and the logits come back by host-link reads. A single-card plan is the same code.
 *
 * <pre>
 * x = token_embd[token]                                        on plan.firstCard
 * for each block:
 *     hand x to the block's cards that lack it (link transfers)
 *     every card c of the block:  a_c = W_o[:, heads_c] · attention_c(rmsnorm(x))   (own KV cache)
 *     a = Σ_c a_c   (AllReduce SUM over all cards, the others adding zeros; nothing for one card)
 *     x = x + a
 *     every card c:               m_c = W_down[:, ff_c] · (silu(W_gate[ff_c]·xn) · W_up[ff_c]·xn)
 *     m = Σ_c m_c;  x = x + m
 * hand x to the output cards; each computes rmsnorm(x) and its rows of the head; the host reads them
 * </pre>
 */
public final class PlanExecutor implements AutoCloseable {
    /** How to run: activation handling, host threads per (mock) card, tokens the KV caches hold, allreduce algorithm. */
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

    /**
     * Time and traffic since the last {@link #resetStats()}. Card compute is each card's busy time (its programs,
     * waits for link messages included); collectives and hand-offs are counted per token from the program's shape,
     * their time is part of the cards' (they run inside the cards' programs).
     */
    public record Stats(int tokens, long wallNanos, long[] cardComputeNanos, long collectiveNanos, int collectives,
            long collectiveBytes, long handOffNanos, int handOffs, long handOffBytes) {
    }

    /**
     * The part of the model an executor runs: blocks [firstLayer, endLayer), with the token embedding when it is the
     * first stage and the output head when it is the last. A stage without the embedding takes the hidden state in
     * (a host-link write to the plan's first card), one without the head gives it back (a host-link read from its
     * first output card): one host's share of a pipeline across hosts. {@link #whole} is the whole model.
     */
    public record Stage(int firstLayer, int endLayer, boolean embeds, boolean emitsLogits) {
        public Stage {
            if (firstLayer < 0 || endLayer <= firstLayer) {
                throw new IllegalArgumentException("a stage needs blocks firstLayer < endLayer, got " + firstLayer
                        + ".." + endLayer);
            }
        }

        public static Stage whole(int layers) {
            return new Stage(0, layers, true, true);
        }
    }

    private static final int STEP_BYTES = (int) HostLinkTraffic.STEP_BYTES;

    private final LlamaConfig config;
    private final Plan plan;
    private final Stage stage;
    private final Options options;
    private final CardGroup group;
    private final List<SailCard> cards;
    private final List<CardBuffer> allocated = new ArrayList<>();
    private final long[] weightBytes;
    private final long[] kvBytes;
    private final CardBuffer[] step;
    private final Program[] programs;
    private final ByteBuffer stepBytes = ByteBuffer.allocate(STEP_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    /** Each set of programs run as one job (decode's, and each prompt batch size's), prepared at its first run. */
    private final Map<Program[], PreparedJob> jobs = new IdentityHashMap<>();
    private final List<Output> outputs = new ArrayList<>();
    /** The normalized hidden state entering the output head, read back from the first output card to be checked. */
    private HeadInput headInput;
    /** A stage without the embedding: where the host writes the incoming hidden state. */
    private CardBuffer entry;
    /** A stage without the head: where the host reads the outgoing hidden state. */
    private CardBuffer exit;
    private ByteBuffer hiddenBytes;
    private final long[] busyBase;
    private CollectiveAlgorithm lastAlgorithm;
    /** Each card's decode ops and the buffers holding one token's values: what prompt processing rewrites. */
    private final List<List<Op>> decodeOps = new ArrayList<>();
    private final List<List<CardBuffer>> activationBuffers = new ArrayList<>();
    /** Prompt programs by batch size, built at first use; empty when the plan's ops have no batched form. */
    private final Map<Integer, Optional<PrefillPrograms>> prefills = new HashMap<>();
    private int collectivesPerToken;
    /** The tensor-parallel joins in the decode programs, for prompt processing to run each once per pass. */
    private final List<PrefillPrograms.Join> joins = new ArrayList<>();
    private int handOffsPerToken;

    private int tokens;
    private long wallNanos;
    /** Every KV cache and the bytes of one of its rows: the load's warm-up steps clear the rows they wrote. */
    private final List<KvCache> kvCaches = new ArrayList<>();
    /** Decode steps the load ran to warm up (0 when it ran none). */
    private int warmUpSteps;
    /** Tokens of the prompt pass the load's warm-up ran (0 when it ran none). */
    private int warmUpPassTokens;
    /** The time the load's window of {@link #weightTransferNanos()} is read on (the wall clock; a test's own). */
    private final LongSupplier clock;
    private long weightTransferNanos;

    private record KvCache(int card, CardBuffer buffer, long rowBytes) {
    }

    /** An output card's rows of the logits and where the host reads them into. */
    private record Output(int card, CardBuffer logits, int firstRow, ByteBuffer bytes, FloatBuffer floats) {
    }

    /** Where the host reads the output head's input into (allocated once, like the logits). */
    private record HeadInput(int card, CardBuffer normed, ByteBuffer bytes, FloatBuffer floats, float[] values) {
    }

    /** Each card's activation buffers, sized for the largest shard it holds. */
    private static final class Activations {
        CardBuffer hidden;
        CardBuffer normed;
        CardBuffer partial;
        CardBuffer zeros;
        CardBuffer query;
        CardBuffer key;
        CardBuffer value;
        CardBuffer attended;
        CardBuffer gate;
        CardBuffer up;
    }

    /**
     * Opens the plan's cards from {@code provider} (one per card of {@code topology}), places the shards and builds
     * the programs; the executor closes the cards when it closes.
     *
     * @param collectives joins the tensor-parallel blocks; may be null when no block has two cards
     */
    public PlanExecutor(GgufFile file, Plan plan, Topology topology, CardProvider provider,
            CardCollectives collectives, Options options) {
        this(file, plan, topology, provider, collectives, options, LoadProgress.NONE);
    }

    /** As above, telling {@code progress} how many of the weights' bytes have been sent to the cards. */
    public PlanExecutor(GgufFile file, Plan plan, Topology topology, CardProvider provider,
            CardCollectives collectives, Options options, LoadProgress progress) {
        this(file, plan, open(provider, plan, topology, options), collectives, options, null, progress,
                System::nanoTime);
    }

    private static CardGroup open(CardProvider provider, Plan plan, Topology topology, Options options) {
        if (plan.cards() != topology.cardCount()) {
            throw new TopologyMismatchException(plan.cards(), topology.cardCount());
        }
        if (provider == null) {
            throw new InvalidConfigurationException("running a plan needs cards, and no card provider is set: install"
                    + " a device bundle (e.g. org.popsolutions.spanker.device.mock)");
        }
        return provider.open(new CardGroupSpec(topology, null, options.threadsPerCard()));
    }

    /** On cards already open; the executor closes them when it closes. */
    public PlanExecutor(GgufFile file, Plan plan, CardGroup group, CardCollectives collectives, Options options) {
        this(file, plan, group, collectives, options, null);
    }

    /**
     * One stage of a pipeline on cards already open: {@code plan} places exactly the stage's blocks (its first card
     * receives the hidden state or embeds the token, its first output card gives the hidden state back or the
     * output cards compute the logits). Run it with {@link #forwardStage}.
     *
     * @param stage null for the whole model
     */
    public PlanExecutor(GgufFile file, Plan plan, CardGroup group, CardCollectives collectives, Options options,
            Stage stage) {
        this(file, plan, group, collectives, options, stage, LoadProgress.NONE, System::nanoTime);
    }

    /** @param clock what {@link #weightTransferNanos()} is measured on (tests count card calls on it) */
    PlanExecutor(GgufFile file, Plan plan, CardGroup group, CardCollectives collectives, Options options,
            Stage stage, LoadProgress progress, LongSupplier clock) {
        this.clock = clock;
        this.config = LlamaConfig.of(file);
        this.stage = stage == null ? Stage.whole(config.layers()) : stage;
        this.plan = plan;
        this.options = options;
        this.group = group;
        this.cards = group.cards();
        int n = cards.size();
        this.weightBytes = new long[n];
        this.kvBytes = new long[n];
        this.step = new CardBuffer[n];
        this.programs = new Program[n];
        this.busyBase = new long[n];
        try {
            if (plan.cards() != n) {
                throw new TopologyMismatchException(plan.cards(), n);
            }
            LlamaShards.validate(plan, config, this.stage.firstLayer(), this.stage.endLayer());
            try (Loader loader = new Loader(file, clock)) {
                build(file, loader, collectives);
                Thread ahead = prepareAhead();
                try {
                    loader.sendWeights(progress);
                    // a device may answer host-link writes later (device.sails sends on without waiting): the weights
                    // are there when every card has answered them, which any request after them shows; the programs
                    // prepared meanwhile (the mock's wait for its JIT warm-up, seconds) are not the transfer's
                    for (int c = 0; c < n; c++) {
                        if (weightBytes[c] > 0) {
                            cards.get(c).memory();
                        }
                    }
                    long start = loader.firstWriteNanos;
                    weightTransferNanos = start == Long.MIN_VALUE ? 0 : clock.getAsLong() - start;
                } finally {
                    joinPreparing(ahead);
                }
            }
            warmUpSteps = warmUp();
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

    public Stage stage() {
        return stage;
    }

    /**
     * How long the load's weights took to reach the cards: from the host's first weight write until every card had
     * answered the last (0 when no card holds weights). This is the part of a load the host link sets, what the plan
     * predicts ({@link Plan#loadSeconds()}); the rest of a load is the host's own preparation before it (reading the
     * file, placing the shards, allocating, building the programs; 290 ms of a 0.35 s tiny-preset load at time
     * dilation 7, docs/sails.md) and the warm-up after it, neither of which the host link or the cards set.
     */
    public long weightTransferNanos() {
        return weightTransferNanos;
    }

    /** Tokens the KV caches hold. */
    public int contextLength() {
        return options.contextLength();
    }

    /** Bytes of weights each card holds, in card order. */
    public long[] weightBytesPerCard() {
        return weightBytes.clone();
    }

    public long[] kvCacheBytesPerCard() {
        return kvBytes.clone();
    }

    /** The cards the plan runs on. */
    public CardGroup cards() {
        return group;
    }

    /** The algorithm of the tensor-parallel AllReduces, if the plan has any. */
    public CollectiveAlgorithm lastAlgorithm() {
        return lastAlgorithm;
    }

    /**
     * Starts preparing, while the weights go to the cards, the jobs a generation runs first: decode's, and a prompt's
     * full pass ({@value PrefillPrograms#MAX_BATCH} tokens, or the context's length when shorter; a longer prompt is
     * cut into such passes). A card that compiles its programs (the in-process mock: thousands of ops for a pass) does
     * it then, on this other thread, instead of inside the first prompt, and the load's time shows it. A stage of a
     * pipeline (which runs token by token) and a plan without a batched form prepare decode only; so does a small
     * model, whose full pass has fewer than {@value #PREPARE_AHEAD_MULTIPLY_ADDS} multiply-adds (a pass that short
     * would cost less than its preparation, which a short prompt would not use: a prompt makes its own pass when it
     * comes). When the pass's buffers do not fit now, they are given back, and a prompt makes them, as before.
     *
     * @return the preparing thread, to be joined before the load ends
     */
    private Thread prepareAhead() {
        List<Program[]> toPrepare = new ArrayList<>();
        toPrepare.add(programs);
        int batch = Math.min(PrefillPrograms.MAX_BATCH, options.contextLength());
        long least = Long.getLong(PREPARE_AHEAD_PROPERTY, PREPARE_AHEAD_MULTIPLY_ADDS);
        if (entry == null && exit == null && batch > 1 && batch * multiplyAddsPerToken() >= least) {
            List<Map.Entry<Integer, CardBuffer>> made = new ArrayList<>();
            try {
                Optional<PrefillPrograms> pass = PrefillPrograms.of(batch, decodeOps, step,
                        activationBuffers, lastTokenOnly(), joins, (card, bytes, purpose) -> {
                            CardBuffer b = allocate(card, bytes, purpose);
                            made.add(Map.entry(card, b));
                            return b;
                        });
                prefills.put(batch, pass);
                pass.ifPresent(p -> toPrepare.add(p.programs));
            } catch (OutOfCardMemoryException e) {
                for (Map.Entry<Integer, CardBuffer> b : made) {
                    cards.get(b.getKey()).free(b.getValue());
                    allocated.remove(b.getValue());
                }
            }
        }
        Thread thread = new Thread(() -> {
            for (Program[] job : toPrepare) {
                try {
                    PreparedJob prepared = group.prepare(Arrays.asList(job));
                    synchronized (preparedAhead) {
                        preparedAhead.put(job, prepared);
                    }
                } catch (RuntimeException e) {
                    // prepared again at its first run, which reports the failure where it belongs
                }
            }
        }, "prepare-programs-ahead");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /**
     * A full prompt pass of at least this many multiply-adds is prepared while the model loads (a 64-token pass of a
     * billion-parameter model has about 6·10^10); system property {@value #PREPARE_AHEAD_PROPERTY} sets another.
     */
    static final long PREPARE_AHEAD_MULTIPLY_ADDS = 10_000_000_000L;
    static final String PREPARE_AHEAD_PROPERTY = "spanker.prompt.prepareAheadMultiplyAdds";

    /** The products' multiply-adds of one token's decode step, every card's. */
    private long multiplyAddsPerToken() {
        long total = 0;
        for (List<Op> ops : decodeOps) {
            for (Op op : ops == null ? List.<Op>of() : ops) {
                if (op instanceof Op.MatMul m) {
                    total += (long) m.rows() * m.columns() * m.vectors();
                }
            }
        }
        return total;
    }

    /** The jobs prepared ahead, by their programs (filled by the preparing thread, taken once it has ended). */
    private final Map<Program[], PreparedJob> preparedAhead = new IdentityHashMap<>();

    /**
     * Waits for the preparing thread and keeps what it prepared; a job it could not prepare is prepared at its first
     * run, as without it (where its failure, if any, is reported).
     */
    private void joinPreparing(Thread ahead) {
        boolean interrupted = false;
        while (true) {
            try {
                ahead.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        synchronized (preparedAhead) {
            jobs.putAll(preparedAhead);
            preparedAhead.clear();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Most decode steps a load runs to warm up; system property {@value #WARM_UP_PROPERTY} sets another (0: none).
     * A small model's step takes milliseconds once compiled and hundreds of them before.
     */
    static final int WARM_UP_MOST_STEPS = 48;
    static final String WARM_UP_PROPERTY = "spanker.decode.warmUpSteps";
    /** The warm-up ends after the step that passes this much time since it began, settled or not. */
    static final long WARM_UP_MOST_NANOS = 10_000_000_000L;

    /**
     * Runs the decode step a few times before the load ends, as llama.cpp runs one empty decode at load ({@code
     * --warmup}), so that a generation's first tokens do not pay for it: on a card computing in this JVM (the mock) the
     * first decode steps run the card's arithmetic interpreted and then while the JIT compiles it (a small model's
     * first eight steps took 0.2-0.6 s each, against 5-10 ms once compiled), and the prompt, which runs as batched
     * passes, compiles other code. Steps run at positions 0, 1, ... of the context, as a generation's would, until one
     * passes with no compilation finishing in this JVM and no slower than a quarter above the fastest (at least two,
     * at most {@value #WARM_UP_MOST_STEPS} or {@value #WARM_UP_MOST_NANOS} ns). Then the KV cache rows they wrote are
     * cleared (zero, as allocated) and the statistics reset: the executor is as if they had never run, and every
     * later step rewrites its own inputs. Cards that are dilated (they run every modelled time K times slower, and
     * the load's time is compared with a prediction) are not warmed up.
     *
     * @return the steps run
     */
    private int warmUp() {
        int most = Math.min(Integer.getInteger(WARM_UP_PROPERTY, WARM_UP_MOST_STEPS), options.contextLength());
        if (most <= 0 || group.topology().cards().stream().anyMatch(c -> c.timeDilation() != 1)) {
            return 0;
        }
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        if (jit != null && !jit.isCompilationTimeMonitoringSupported()) {
            jit = null;
        }
        int token = Math.min(1, config.vocabulary() - 1);
        int done = 0;
        int passed = 0;
        try {
            // the prompt's pass first, as a generation runs it: code it shares with decode is then compiled for both
            // (compiled for decode alone, it was recompiled in a generation's first steps, after the prompt)
            Optional<PrefillPrograms> pass = warmUpPass(warmUpPassTokens(most));
            if (pass.isPresent()) {
                warmUpPass(pass.get(), token);
                passed = pass.get().batch;
                warmUpPassTokens = passed;
            }
            long began = System.nanoTime();
            long fastest = Long.MAX_VALUE;
            while (done < most) {
                long compiling = jit == null ? 0 : jit.getTotalCompilationTime();
                long start = System.nanoTime();
                warmUpStep(token, done);
                long end = System.nanoTime();
                done++;
                fastest = Math.min(fastest, end - start);
                boolean compiled = jit != null && jit.getTotalCompilationTime() != compiling;
                if (done >= 2 && !compiled && end - start <= fastest + fastest / 4
                        || end - began >= WARM_UP_MOST_NANOS) {
                    break;
                }
            }
        } finally {
            clearRows(Math.max(done, passed));
            resetStats();
        }
        return done;
    }

    /**
     * Tokens of the prompt pass the warm-up runs when no full pass was prepared at load (a prompt's other pass sizes
     * run the same code).
     */
    static final int WARM_UP_PROMPT_TOKENS = 8;

    /**
     * The prompt pass the warm-up runs: the full one prepared at load ({@link #prepareAhead}, which fits the context),
     * when there is one and the warm-up is not cut below {@value #WARM_UP_PROMPT_TOKENS} steps, else {@value #WARM_UP_PROMPT_TOKENS} tokens. A pass of 8 tokens left
     * the prompt's own code (attention over a pass's tokens, the norms and ropes of a run, the quantization of 64
     * vectors) to the JIT during the first prompt: its C2 compilations then ran beside the prompt's threads, which
     * cost a two-thread first prompt the second core (TinyLlama, Java 25, 2 threads, real-time priority on the shared
     * machine: the first 128-token prompt ran 165-245 tokens/s, the next ones 200-330; with the full pass in the
     * warm-up the first ran 180-290, faster in 8 of 9 alternated pairs over Q4_0, Q8_0 and Q4_K); on one thread the
     * compiler had the other core and the first prompt ran as fast as the next. The load takes one pass longer.
     */
    private int warmUpPassTokens(int most) {
        int full = Math.min(PrefillPrograms.MAX_BATCH, options.contextLength());
        Optional<PrefillPrograms> prepared = prefills.get(full);
        return prepared != null && prepared.isPresent() && most >= WARM_UP_PROMPT_TOKENS ? full
                : Math.min(WARM_UP_PROMPT_TOKENS, most);
    }

    /**
     * The prompt pass of {@code batch} tokens the warm-up runs: the one already made, or a new one kept for prompts of
     * that length; none when the plan has no batched form (a pipeline's stage, ops without one) or its buffers do not
     * fit now (they are given back; a prompt then runs as without the warm-up).
     */
    private Optional<PrefillPrograms> warmUpPass(int batch) {
        if (entry != null || exit != null || batch < 2) {
            return Optional.empty();
        }
        Optional<PrefillPrograms> made = prefills.get(batch);
        if (made != null) {
            return made;
        }
        List<Map.Entry<Integer, CardBuffer>> buffers = new ArrayList<>();
        try {
            Optional<PrefillPrograms> pass = PrefillPrograms.of(batch, decodeOps, step, activationBuffers,
                    lastTokenOnly(), joins, (card, bytes, purpose) -> {
                        CardBuffer b = allocate(card, bytes, purpose);
                        buffers.add(Map.entry(card, b));
                        return b;
                    });
            prefills.put(batch, pass);
            return pass;
        } catch (OutOfCardMemoryException e) {
            for (Map.Entry<Integer, CardBuffer> b : buffers) {
                cards.get(b.getKey()).free(b.getValue());
                allocated.remove(b.getValue());
            }
            return Optional.empty();
        }
    }

    /** A prompt pass of {@code token} at positions 0 .. batch-1, its outputs read and not checked. */
    private void warmUpPass(PrefillPrograms pass, int token) {
        int[] ids = new int[pass.batch];
        java.util.Arrays.fill(ids, token);
        runPass(pass, ids, 0, 0);
    }

    /**
     * Writes tokens {@code ids[from..]} at positions {@code position..} to every card with a pass program, runs the
     * pass and reads the last token's head input and logits into their host buffers (its copy is the last in each
     * twin), unchecked.
     */
    private void runPass(PrefillPrograms pass, int[] ids, int from, int position) {
        int b = pass.batch;
        ByteBuffer stepBatch = ByteBuffer.allocate(8 * b).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < b; i++) {
            stepBatch.putInt(4 * i, ids[from + i]).putInt(4 * (b + i), position + i);
        }
        for (int c = 0; c < pass.programs.length; c++) {
            if (pass.programs[c] != null) {
                cards.get(c).write(pass.step[c], 0, stepBatch);
            }
        }
        run(pass.programs);
        HeadInput in = headInput;
        in.bytes.clear();
        cards.get(in.card).read(pass.twin(in.card, in.normed), (b - 1) * in.normed.bytes(), in.bytes);
        for (Output out : outputs) {
            out.bytes.clear();
            cards.get(out.card).read(pass.twin(out.card, out.logits), (b - 1) * out.logits.bytes(), out.bytes);
        }
    }

    /** Writes {@code token} and {@code position} to every card with a program and runs the decode step's programs. */
    private void runStep(int token, int position) {
        stepBytes.clear();
        stepBytes.putInt(0, token).putInt(4, position);
        for (int c = 0; c < programs.length; c++) {
            if (programs[c] != null) {
                cards.get(c).write(step[c], 0, stepBytes);
            }
        }
        run(programs);
    }

    /** One decode step of {@code token} at {@code position}, its outputs read and not checked. */
    private void warmUpStep(int token, int position) {
        if (entry != null) {
            hiddenBytes.clear();
            hiddenBytes.put(new byte[hiddenBytes.capacity()]).clear(); // a hidden state of zeros
            cards.get(plan.firstCard()).write(entry, 0, hiddenBytes);
        }
        runStep(token, position);
        if (exit != null) {
            hiddenBytes.clear();
            cards.get(plan.outputCards().get(0)).read(exit, 0, hiddenBytes);
            return;
        }
        // the head's input is read back as a decode step does (checking it is the step's business, not the warm-up's)
        headInput.bytes.clear();
        cards.get(headInput.card).read(headInput.normed, 0, headInput.bytes);
        for (Output o : outputs) {
            o.bytes.clear();
            cards.get(o.card).read(o.logits, 0, o.bytes);
        }
    }

    /** Zeroes rows 0 .. rows-1 of every KV cache, as allocated. */
    private void clearRows(int rows) {
        if (rows == 0) {
            return;
        }
        for (KvCache cache : kvCaches) {
            long bytes = rows * cache.rowBytes();
            ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(bytes, 1 << 20));
            for (long at = 0; at < bytes; at += zeros.capacity()) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), bytes - at));
                cards.get(cache.card()).write(cache.buffer(), at, zeros);
            }
        }
    }

    /** Decode steps the load ran to warm up (0 when none ran: switched off, or dilated cards). */
    public int warmUpSteps() {
        return warmUpSteps;
    }

    /** Tokens of the prompt pass the load's warm-up ran (0 when none ran). */
    int warmUpPassTokens() {
        return warmUpPassTokens;
    }

    /** Whether a prompt pass of {@code batch} tokens has its job prepared (at load, or by an earlier prompt). */
    boolean promptPassPrepared(int batch) {
        Optional<PrefillPrograms> pass = prefills.get(batch);
        return pass != null && pass.isPresent() && jobs.containsKey(pass.get().programs);
    }

    private CardBuffer allocate(int card, long bytes, String purpose) {
        CardBuffer b = cards.get(card).allocate(bytes, purpose);
        allocated.add(b);
        return b;
    }

    /** Allocates a weight buffer on the card; its bytes go over the host link once every buffer is allocated. */
    private Slice place(int card, ByteBuffer bytes, String purpose, Loader loader) {
        CardBuffer b = allocate(card, bytes.remaining(), purpose);
        SailCard target = cards.get(card);
        loader.add(bytes.remaining(), () -> {
            loader.writing();
            target.write(b, 0, bytes);
            loader.sent(bytes.limit() - bytes.position());
        });
        weightBytes[card] += b.bytes();
        return Slice.of(b);
    }

    /**
     * Allocates a weight buffer on the card; once every buffer is allocated, the range is streamed from the file to
     * it, a chunk per host-link write.
     */
    private Slice place(int card, Weights w, Loader loader) {
        CardBuffer b = allocate(card, w.bytes(), w.name);
        SailCard target = cards.get(card);
        loader.add(w.bytes(), () -> w.stream(loader.reader, loader.chunk, loader.staging, (offset, bytes) -> {
            int n = bytes.remaining();
            loader.writing();
            target.write(b, offset, bytes);
            loader.sent(n);
        }));
        weightBytes[card] += b.bytes();
        return Slice.of(b);
    }

    /**
     * The file's tensor reader and the two buffers every weight goes through on its way to a card: the host holds at
     * most these {@value Weights#CHUNK_BYTES}-byte chunks of the model at any time, whatever its size.
     */
    private static final class Loader implements AutoCloseable {
        final GgufFile.TensorReader reader;
        final ByteBuffer chunk = ByteBuffer.allocateDirect(Weights.CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer staging = ByteBuffer.allocateDirect(Weights.CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        /**
         * The weights' transfers, in placement order. They run after every buffer is allocated: an allocation's
         * answer comes after the writes queued before it on the card's host link, so allocating between transfers
         * would leave the link idle for a round trip behind every tensor, which real cards would not do either.
         */
        private final List<Runnable> weights = new ArrayList<>();
        private long total;
        private long sent;
        private LoadProgress progress = LoadProgress.NONE;
        private final LongSupplier clock;
        /** When the first weight byte was handed to a card ({@link Long#MIN_VALUE}: none yet). */
        long firstWriteNanos = Long.MIN_VALUE;

        Loader(GgufFile file, LongSupplier clock) {
            this.reader = file.openReader();
            this.clock = clock;
        }

        /** A weight write is about to be handed to its card: the transfer's window opens at the first. */
        void writing() {
            if (firstWriteNanos == Long.MIN_VALUE) {
                firstWriteNanos = clock.getAsLong();
            }
        }

        void add(long bytes, Runnable transfer) {
            total += bytes;
            weights.add(transfer);
        }

        void sent(long bytes) {
            sent += bytes;
            progress.sent(sent, total);
        }

        void sendWeights(LoadProgress watcher) {
            progress = watcher;
            for (Runnable w : weights) {
                w.run();
            }
            weights.clear();
        }

        @Override
        public void close() {
            reader.close();
        }
    }

    private static long floats(long count) {
        return count * Float.BYTES;
    }

    private void build(GgufFile file, Loader loader, CardCollectives collectives) {
        int n = cards.size();
        int e = config.embedding();
        int hd = config.headDimension();
        ActivationMode mode = options.mode() == DotMode.GGML ? ActivationMode.GGML : ActivationMode.FLOAT;
        // activation buffers, sized for each card's largest shard
        int[] maxQuery = new int[n];
        int[] maxKv = new int[n];
        int[] maxFf = new int[n];
        for (LayerPlacement placement : plan.layers()) {
            for (CardShard s : placement.shards()) {
                maxQuery[s.card()] = Math.max(maxQuery[s.card()], LlamaShards.queryRows(config, s).length());
                maxKv[s.card()] = Math.max(maxKv[s.card()], LlamaShards.keyValueRows(config, s).length());
                maxFf[s.card()] = Math.max(maxFf[s.card()], LlamaShards.feedForwardRows(s).length());
            }
        }
        Activations[] act = new Activations[n];
        for (int c = 0; c < n; c++) {
            step[c] = allocate(c, STEP_BYTES, "token and position");
            Activations a = new Activations();
            a.hidden = allocate(c, floats(e), "hidden state");
            a.normed = allocate(c, floats(e), "normed hidden state");
            a.partial = allocate(c, floats(e), "partial sum");
            a.zeros = allocate(c, floats(e), "zeros");
            a.query = allocate(c, floats(maxQuery[c]), "query");
            a.key = allocate(c, floats(maxKv[c]), "key");
            a.value = allocate(c, floats(maxKv[c]), "value");
            a.attended = allocate(c, floats(maxQuery[c]), "attention output");
            a.gate = allocate(c, floats(maxFf[c]), "gate");
            a.up = allocate(c, floats(maxFf[c]), "up");
            act[c] = a;
        }
        List<List<Op>> ops = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            ops.add(new ArrayList<>());
        }
        int first = plan.firstCard();
        Weights embedding = Weights.of(file, "token_embd.weight");
        List<Integer> holders = List.of(first);
        if (stage.embeds()) {
            holders = embeddingCards();
            for (int c : holders) {
                Slice table = place(c, embedding, loader);
                ops.get(c).add(new Op.EmbeddingRow(embedding.type.id(), table, e,
                        new Slice(step[c].handle(), 0, 4), Slice.of(act[c].hidden)));
            }
        } else {
            entry = act[first].hidden;
        }
        if (!stage.embeds() || !stage.emitsLogits()) {
            hiddenBytes = ByteBuffer.allocate((int) floats(e)).order(ByteOrder.LITTLE_ENDIAN);
        }
        for (LayerPlacement placement : plan.layers()) {
            handOff(holders, placement.cards(), act, ops);
            String p = "blk." + placement.layer() + ".";
            boolean parallel = placement.shards().size() > 1;
            Weights q = Weights.of(file, p + "attn_q.weight");
            Weights k = Weights.of(file, p + "attn_k.weight");
            Weights v = Weights.of(file, p + "attn_v.weight");
            Weights o = Weights.of(file, p + "attn_output.weight");
            Weights gate = Weights.of(file, p + "ffn_gate.weight");
            Weights up = Weights.of(file, p + "ffn_up.weight");
            Weights down = Weights.of(file, p + "ffn_down.weight");
            // attention half
            for (CardShard s : placement.shards()) {
                int c = s.card();
                Activations a = act[c];
                Slice pos = new Slice(step[c].handle(), 4, 4);
                Slice partial = Slice.of(a.partial);
                List<Op> card = ops.get(c);
                Slice attnNorm = place(c, Weights.vector(loader.reader, file, p + "attn_norm.weight"),
                        p + "attn_norm.weight", loader);
                LlamaShards.Range qr = LlamaShards.queryRows(config, s);
                LlamaShards.Range kv = LlamaShards.keyValueRows(config, s);
                if (kv.length() == 0) {
                    card.add(new Op.Copy(Slice.of(a.zeros), partial));
                } else {
                    Weights qs = q.rows(qr.from(), qr.to());
                    Weights ks = k.rows(kv.from(), kv.to());
                    Weights vs = v.rows(kv.from(), kv.to());
                    Weights os = o.columns(qr.from(), qr.to());
                    Slice qw = place(c, qs, loader);
                    Slice kw = place(c, ks, loader);
                    Slice vw = place(c, vs, loader);
                    Slice ow = place(c, os, loader);
                    long cacheBytes = floats((long) options.contextLength() * kv.length());
                    CardBuffer keys = allocate(c, cacheBytes, p + "key cache");
                    CardBuffer values = allocate(c, cacheBytes, p + "value cache");
                    kvBytes[c] += 2 * cacheBytes;
                    kvCaches.add(new KvCache(c, keys, floats(kv.length())));
                    kvCaches.add(new KvCache(c, values, floats(kv.length())));
                    Slice query = Slice.floats(a.query, 0, qr.length());
                    Slice key = Slice.floats(a.key, 0, kv.length());
                    Slice value = Slice.floats(a.value, 0, kv.length());
                    Slice attended = Slice.floats(a.attended, 0, qr.length());
                    int localKv = kv.length() / hd;
                    int localHeads = qr.length() / hd;
                    card.add(new Op.RmsNorm(Slice.of(a.hidden), attnNorm, Slice.of(a.normed), config.rmsEpsilon()));
                    card.add(new Op.MatMul(q.type.id(), qw, qr.length(), e, 1, Slice.of(a.normed), query, mode));
                    card.add(new Op.MatMul(k.type.id(), kw, kv.length(), e, 1, Slice.of(a.normed), key, mode));
                    card.add(new Op.MatMul(v.type.id(), vw, kv.length(), e, 1, Slice.of(a.normed), value, mode));
                    card.add(new Op.Rope(query, localHeads, hd, config.ropeDimensions(), config.ropeBase(), pos));
                    card.add(new Op.Rope(key, localKv, hd, config.ropeDimensions(), config.ropeBase(), pos));
                    card.add(new Op.Attention(query, key, value, Slice.of(keys), Slice.of(values), pos, localHeads,
                            localKv, hd, attended));
                    card.add(new Op.MatMul(o.type.id(), ow, e, qr.length(), 1, attended, partial, mode));
                }
                if (!parallel) {
                    card.add(new Op.Add(Slice.of(a.hidden), partial, Slice.of(a.hidden)));
                }
            }
            if (parallel) {
                join(placement, act, ops, collectives);
            }
            // feed-forward half
            for (CardShard s : placement.shards()) {
                int c = s.card();
                Activations a = act[c];
                Slice partial = Slice.of(a.partial);
                List<Op> card = ops.get(c);
                Slice ffnNorm = place(c, Weights.vector(loader.reader, file, p + "ffn_norm.weight"),
                        p + "ffn_norm.weight", loader);
                LlamaShards.Range ff = LlamaShards.feedForwardRows(s);
                if (ff.length() == 0) {
                    card.add(new Op.Copy(Slice.of(a.zeros), partial));
                } else {
                    Weights gs = gate.rows(ff.from(), ff.to());
                    Weights us = up.rows(ff.from(), ff.to());
                    Weights ds = down.columns(ff.from(), ff.to());
                    Slice gw = place(c, gs, loader);
                    Slice uw = place(c, us, loader);
                    Slice dw = place(c, ds, loader);
                    Slice g = Slice.floats(a.gate, 0, ff.length());
                    Slice u = Slice.floats(a.up, 0, ff.length());
                    card.add(new Op.RmsNorm(Slice.of(a.hidden), ffnNorm, Slice.of(a.normed), config.rmsEpsilon()));
                    card.add(new Op.MatMul(gate.type.id(), gw, ff.length(), e, 1, Slice.of(a.normed), g, mode));
                    card.add(new Op.MatMul(up.type.id(), uw, ff.length(), e, 1, Slice.of(a.normed), u, mode));
                    card.add(new Op.SwiGlu(g, u, g));
                    card.add(new Op.MatMul(down.type.id(), dw, e, ff.length(), 1, g, partial, mode));
                }
                if (!parallel) {
                    card.add(new Op.Add(Slice.of(a.hidden), partial, Slice.of(a.hidden)));
                }
            }
            if (parallel) {
                join(placement, act, ops, collectives);
            }
            holders = placement.cards();
        }
        if (!stage.emitsLogits()) {
            int last = plan.outputCards().get(0);
            handOff(holders, List.of(last), act, ops);
            exit = act[last].hidden;
            finishPrograms(ops, act);
            return;
        }
        handOff(holders, plan.outputCards(), act, ops);
        Weights head = config.tiedOutput() ? embedding : Weights.of(file, "output.weight");
        for (int i = 0; i < plan.outputCards().size(); i++) {
            int c = plan.outputCards().get(i);
            LlamaShards.Range rows = LlamaShards.headRows(config, i, plan.outputCards().size());
            Slice norm = place(c, Weights.vector(loader.reader, file, "output_norm.weight"),
                    "output_norm.weight", loader);
            Weights hs = head.rows(rows.from(), rows.to());
            Slice hw = place(c, hs, loader);
            CardBuffer logits = allocate(c, floats(Math.max(1, rows.length())), "logits");
            ops.get(c).add(new Op.RmsNorm(Slice.of(act[c].hidden), norm, Slice.of(act[c].normed),
                    config.rmsEpsilon()));
            if (rows.length() > 0) {
                ops.get(c).add(new Op.MatMul(head.type.id(), hw, rows.length(), e, 1, Slice.of(act[c].normed),
                        Slice.floats(logits, 0, rows.length()), mode));
            }
            ByteBuffer bytes = ByteBuffer.allocate((int) floats(rows.length())).order(ByteOrder.LITTLE_ENDIAN);
            outputs.add(new Output(c, logits, rows.from(), bytes, bytes.asFloatBuffer()));
        }
        int headCard = plan.outputCards().get(0);
        ByteBuffer normedBytes = ByteBuffer.allocate((int) floats(e)).order(ByteOrder.LITTLE_ENDIAN);
        headInput = new HeadInput(headCard, act[headCard].normed, normedBytes, normedBytes.asFloatBuffer(),
                new float[e]);
        finishPrograms(ops, act);
    }

    /**
     * The cards that hold the token embedding and look the token up themselves: the plan's first card, and every card
     * the plan replicates {@code token_embd} on (then the first block's cards need no hand-off).
     */
    private List<Integer> embeddingCards() {
        List<Integer> holders = new ArrayList<>(List.of(plan.firstCard()));
        for (TensorPlacement t : plan.tensors()) {
            if (t.layer() == -1 && t.tensor().equals("token_embd.weight")) {
                for (int c : t.cards()) {
                    if (!holders.contains(c) && c >= 0 && c < cards.size()) {
                        holders.add(c);
                    }
                }
            }
        }
        return holders;
    }

    private void finishPrograms(List<List<Op>> ops, Activations[] act) {
        for (int c = 0; c < programs.length; c++) {
            programs[c] = ops.get(c).isEmpty() ? null : new Program("decode on card " + c, ops.get(c));
            decodeOps.add(ops.get(c));
            Activations a = act[c];
            // zeros is read, never written: every token of a pass reads the one buffer (no twin)
            List<CardBuffer> buffers = new ArrayList<>(List.of(a.hidden, a.normed, a.partial, a.query, a.key,
                    a.value, a.attended, a.gate, a.up));
            for (Output out : outputs) {
                if (out.card() == c) {
                    buffers.add(out.logits());
                }
            }
            activationBuffers.add(buffers);
        }
    }

    /**
     * The block's partial sums are summed over the block's cards and added to x. When the block's cards are cabled
     * as a group of their own (neighbours on the ring, or any cards of a mesh), the allreduce runs on them only;
     * otherwise over every card, the cards outside the block adding zeros.
     */
    private void join(LayerPlacement placement, Activations[] act, List<List<Op>> ops, CardCollectives collectives) {
        if (collectives == null) {
            throw new InvalidConfigurationException("a tensor-parallel block needs card collectives; none is set");
        }
        List<Integer> members = placement.cards();
        CardGroup own = members.size() == cards.size() ? null : GroupCards.of(group, members);
        List<Integer> taking = new ArrayList<>(members);
        if (own == null) {
            taking.clear();
            for (int c = 0; c < cards.size(); c++) {
                taking.add(c);
            }
        }
        List<Slice> data = new ArrayList<>();
        for (int c : taking) {
            if (!members.contains(c)) {
                ops.get(c).add(new Op.Copy(Slice.of(act[c].zeros), Slice.of(act[c].partial)));
            }
            data.add(Slice.of(act[c].partial));
        }
        CardGroup on = own != null ? own : group;
        CollectiveProgram allReduce = collectives.allReduce(on, ReduceOp.SUM, options.algorithm(), data);
        allocated.addAll(allReduce.scratch());
        lastAlgorithm = allReduce.algorithm();
        collectivesPerToken++;
        int[] starts = new int[taking.size()];
        int[] counts = new int[taking.size()];
        for (int i = 0; i < taking.size(); i++) {
            starts[i] = ops.get(taking.get(i)).size();
            counts[i] = allReduce.opsPerCard().get(i).size();
            ops.get(taking.get(i)).addAll(allReduce.opsPerCard().get(i));
        }
        joins.add(new PrefillPrograms.Join(taking, data, starts, counts, slices -> {
            CollectiveProgram batched = collectives.allReduce(on, ReduceOp.SUM, options.algorithm(), slices);
            allocated.addAll(batched.scratch());
            return batched.opsPerCard();
        }));
        for (int c : members) {
            Slice hidden = Slice.of(act[c].hidden);
            ops.get(c).add(new Op.Add(hidden, Slice.of(act[c].partial), hidden));
        }
    }

    /** Sends the hidden state from the first holder to every target that lacks it, over the links (forwarded on a ring). */
    private void handOff(List<Integer> holders, List<Integer> targets, Activations[] act, List<List<Op>> ops) {
        int source = holders.get(0);
        TopologyKind cabling = group.topology().kind();
        for (int target : targets) {
            if (holders.contains(target)) {
                continue;
            }
            int[] path = cabling.route(cards.size(), source, target);
            Slice from = Slice.of(act[source].hidden);
            ops.get(source).add(new Op.Send(port(path[0], path[1]), from, Slice.NONE));
            for (int i = 1; i < path.length - 1; i++) {
                ops.get(path[i]).add(new Op.Forward(port(path[i], path[i - 1]), port(path[i], path[i + 1]),
                        from.bytes()));
            }
            int last = path[path.length - 1];
            ops.get(last).add(new Op.Receive(port(last, path[path.length - 2]), Slice.of(act[last].hidden), Slice.NONE,
                    org.popsolutions.spanker.api.card.Combine.COPY));
            handOffsPerToken++;
        }
    }

    private int port(int from, int to) {
        int port = cards.get(from).identity().portTo(to);
        if (port < 0) {
            throw new InvalidConfigurationException("card " + from + " has no link to card " + to);
        }
        return port;
    }

    /** Logits of {@code token} at {@code position}, in a new array; the KV caches remember it for later positions. */
    public float[] forward(int token, int position) {
        float[] logits = new float[config.vocabulary()];
        forward(token, position, logits);
        return logits;
    }

    /** As {@link #forward(int, int)}, into {@code logits} (vocabulary long): nothing allocated per token. */
    public void forward(int token, int position, float[] logits) {
        if (!stage.embeds() || !stage.emitsLogits()) {
            throw new IllegalStateException("this executor runs blocks " + stage.firstLayer() + ".."
                    + (stage.endLayer() - 1) + " as one stage of a pipeline; use forwardStage");
        }
        forwardStage(token, position, null, logits);
    }

    /**
     * Runs this executor's stage for {@code token} at {@code position}: a stage with the embedding reads the token
     * (and ignores {@code hiddenIn}), one without it takes {@code hiddenIn} (the embedding width); a stage with the
     * head writes the logits into {@code out} (vocabulary long), one without it the hidden state after its last
     * block (the embedding width). Non-finite values coming out are an error naming the position.
     */
    public void forwardStage(int token, int position, float[] hiddenIn, float[] out) {
        if (token < 0 || token >= config.vocabulary()) {
            throw new BadDimsException("token id " + token + " is outside the vocabulary 0.." + (config.vocabulary() - 1));
        }
        if (position < 0 || position >= options.contextLength()) {
            throw new BadDimsException("position " + position + " is outside the context 0.."
                    + (options.contextLength() - 1) + " the KV caches were sized for");
        }
        int expected = stage.emitsLogits() ? config.vocabulary() : config.embedding();
        if (out.length != expected) {
            throw new BadDimsException("the output array holds " + out.length + " values; this stage gives "
                    + expected);
        }
        if (!stage.embeds() && (hiddenIn == null || hiddenIn.length != config.embedding())) {
            throw new BadDimsException("this stage takes a hidden state of " + config.embedding() + " values, got "
                    + (hiddenIn == null ? "none" : hiddenIn.length));
        }
        long start = System.nanoTime();
        if (entry != null) {
            hiddenBytes.clear();
            hiddenBytes.asFloatBuffer().put(hiddenIn);
            cards.get(plan.firstCard()).write(entry, 0, hiddenBytes);
        }
        runStep(token, position);
        if (exit != null) {
            hiddenBytes.clear();
            cards.get(plan.outputCards().get(0)).read(exit, 0, hiddenBytes);
            hiddenBytes.clear();
            hiddenBytes.asFloatBuffer().get(out);
            tokens++;
            wallNanos += System.nanoTime() - start;
            NonFiniteValues.inHiddenState(out, position);
            return;
        }
        checkHeadInput(position);
        for (int i = 0; i < outputs.size(); i++) {
            Output o = outputs.get(i);
            o.bytes.clear();
            cards.get(o.card).read(o.logits, 0, o.bytes);
            o.floats.clear();
            o.floats.get(out, o.firstRow, o.floats.remaining());
        }
        tokens++;
        wallNanos += System.nanoTime() - start;
        NonFiniteValues.inLogits(out, position);
    }

    /**
     * Processes {@code tokens} at positions {@code position}, {@code position + 1}, … (the KV caches remember them) and
     * leaves the logits of the last one in {@code logits}: in passes of up to {@value PrefillPrograms#MAX_BATCH}
     * tokens, one program per card each, whose products run over all the pass's tokens at once. The logits equal those
     * of {@link #forward(int, int, float[])} token by token; a tensor-parallel join is one allreduce per pass over all
     * its tokens' partial sums. A plan whose ops have no batched form runs token by token.
     */
    public void prefill(int[] tokens, int position, float[] logits) {
        prefill(tokens, 0, tokens.length, position, logits);
    }

    /** As {@link #prefill(int[], int, float[])} for {@code tokens[from .. to)}, the first at {@code position}. */
    public void prefill(int[] tokens, int from, int to, int position, float[] logits) {
        if (from < 0 || to > tokens.length || from > to) {
            throw new BadDimsException("tokens " + from + ".." + to + " are outside a prompt of " + tokens.length);
        }
        for (int done = from; done < to; ) {
            int batch = Math.min(PrefillPrograms.MAX_BATCH, to - done);
            // a tensor-parallel join runs once per pass, over all the pass's partial sums (one allreduce of batch
            // vectors, not batch allreduces whose rounds could fill a link both ways at once)
            Optional<PrefillPrograms> pass = batch == 1
                    ? Optional.empty()
                    : prefills.computeIfAbsent(batch, b -> PrefillPrograms.of(b, decodeOps, step, activationBuffers,
                            lastTokenOnly(), joins, this::allocate));
            if (pass.isEmpty()) {
                for (int i = 0; i < batch; i++) {
                    forward(tokens[done + i], position + done - from + i, logits);
                }
            } else {
                prefillPass(pass.get(), tokens, done, position + done - from, logits);
            }
            done += batch;
        }
    }

    /** The logits buffers: a prompt pass computes the head's product for its last token only, as llama.cpp does. */
    private java.util.Set<Long> lastTokenOnly() {
        java.util.Set<Long> handles = new java.util.HashSet<>();
        for (Output o : outputs) {
            handles.add(o.logits.handle());
        }
        return handles;
    }

    private void prefillPass(PrefillPrograms pass, int[] ids, int from, int position, float[] logits) {
        int b = pass.batch;
        for (int i = 0; i < b; i++) {
            int token = ids[from + i];
            if (token < 0 || token >= config.vocabulary()) {
                throw new BadDimsException("token id " + token + " is outside the vocabulary 0.."
                        + (config.vocabulary() - 1));
            }
        }
        if (position < 0 || position + b > options.contextLength()) {
            throw new BadDimsException("positions " + position + ".." + (position + b - 1) + " are outside the context"
                    + " 0.." + (options.contextLength() - 1) + " the KV caches were sized for");
        }
        long start = System.nanoTime();
        runPass(pass, ids, from, position);
        HeadInput in = headInput;
        in.floats.clear();
        in.floats.get(in.values);
        NonFiniteValues.inHiddenState(in.values, position + b - 1);
        for (Output out : outputs) {
            out.floats.clear();
            out.floats.get(logits, out.firstRow, out.floats.remaining());
        }
        tokens += b;
        wallNanos += System.nanoTime() - start;
        NonFiniteValues.inLogits(logits, position + b - 1);
    }

    /**
     * NaN or infinity in the hidden state entering the output head is an error: the head's ggml activation
     * quantization would turn it into zeros, and the logits into plausible ones (token 0, again and again).
     */
    private void checkHeadInput(int position) {
        HeadInput in = headInput;
        in.bytes.clear();
        cards.get(in.card).read(in.normed, 0, in.bytes);
        in.floats.clear();
        in.floats.get(in.values);
        NonFiniteValues.inHiddenState(in.values, position);
    }

    /**
     * Runs the cards' programs as one job (cards shared with another group run it in one order with that group's) and
     * waits for every card; the first card that fails ends the wait (the others may be waiting for its messages) and
     * its error is the one reported. The job is prepared once, so a provider that re-arms its completions allocates
     * nothing per token.
     */
    private void run(Program[] perCard) {
        PreparedJob job = jobs.get(perCard);
        if (job == null) {
            job = group.prepare(Arrays.asList(perCard));
            jobs.put(perCard, job);
        }
        try {
            job.run();
        } catch (SpankerException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DeviceException("a card failed: " + e, e);
        }
    }

    public Stats stats() {
        long[] compute = new long[cards.size()];
        for (int c = 0; c < compute.length; c++) {
            compute[c] = cards.get(c).telemetry().busyNanos() - busyBase[c];
        }
        long hidden = floats(config.embedding());
        return new Stats(tokens, wallNanos, compute, 0, tokens * collectivesPerToken,
                (long) tokens * collectivesPerToken * hidden, 0, tokens * handOffsPerToken,
                (long) tokens * handOffsPerToken * hidden);
    }

    public void resetStats() {
        tokens = 0;
        wallNanos = 0;
        for (int c = 0; c < busyBase.length; c++) {
            busyBase[c] = cards.get(c).telemetry().busyNanos();
        }
    }

    @Override
    public void close() {
        jobs.values().forEach(PreparedJob::close);
        group.close();
    }
}
