package org.popsolutions.spanker.runtime.service;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.popsolutions.spanker.api.BadDimsException;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.card.CardProvider;
import org.popsolutions.spanker.api.collective.CardCollectives;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.runtime.ChatTemplate;
import org.popsolutions.spanker.api.runtime.FinishReason;
import org.popsolutions.spanker.api.runtime.GenerationRequest;
import org.popsolutions.spanker.api.runtime.GenerationResult;
import org.popsolutions.spanker.api.runtime.LoadProgress;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.ModelLoad;
import org.popsolutions.spanker.api.runtime.PassTimings;
import org.popsolutions.spanker.api.runtime.Sampling;
import org.popsolutions.spanker.api.runtime.TokenEvent;
import org.popsolutions.spanker.api.runtime.TokenListener;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.model.llama.LlamaConfig;
import org.popsolutions.spanker.model.llama.Sampler;
import org.popsolutions.spanker.model.llama.Tokenizer;
import org.popsolutions.spanker.runtime.PlanExecutor;

/** A model on its cards behind the service interface: one generation at a time (a fair lock keeps arrival order). */
final class PlacedModel implements LoadedModel {
    /** Prompt tokens per call into the executor (it cuts them into its own passes): cancellation is seen this often. */
    private static final int PROMPT_PASS = 128;
    private final GgufFile file;
    private final PlanExecutor executor;
    private final double loadSeconds;
    private final Observers observers;
    private final ReentrantLock turn = new ReentrantLock(true);
    private volatile Tokenizer tokenizer;

    private PlacedModel(GgufFile file, PlanExecutor executor, double loadSeconds, Observers observers) {
        this.file = file;
        this.executor = executor;
        this.loadSeconds = loadSeconds;
        this.observers = observers;
    }

    static PlacedModel load(ModelLoad request, CardProvider cards, CardCollectives collectives, Observers observers,
            LoadProgress progress) {
        long start = System.nanoTime();
        GgufFile file = GgufReader.open(request.model());
        PlanExecutor executor = new PlanExecutor(file, request.plan(), request.topology(), cards, collectives,
                new PlanExecutor.Options(request.mode() == ActivationMode.FLOAT ? DotMode.FLOAT : DotMode.GGML,
                        request.threadsPerCard(), request.contextLength(), request.algorithm()), progress);
        return new PlacedModel(file, executor, (System.nanoTime() - start) / 1e9, observers);
    }

    void announceLoaded() {
        observers.tell(o -> o.loaded(this));
    }

    /** Read when first needed: a model used for raw logits needs none. */
    private Tokenizer tokenizer() {
        Tokenizer t = tokenizer;
        if (t == null) {
            t = Tokenizer.of(file);
            tokenizer = t;
        }
        return t;
    }

    @Override
    public String name() {
        return executor.config().name();
    }

    @Override
    public int vocabulary() {
        return executor.config().vocabulary();
    }

    @Override
    public int contextLength() {
        return executor.contextLength();
    }

    @Override
    public int endOfSequence() {
        return tokenizer().eosToken();
    }

    @Override
    public Plan plan() {
        return executor.plan();
    }

    @Override
    public double loadSeconds() {
        return loadSeconds;
    }

    @Override
    public double weightTransferSeconds() {
        return executor.weightTransferNanos() / 1e9;
    }

    @Override
    public long[] weightBytesPerCard() {
        return executor.weightBytesPerCard().clone();
    }

    @Override
    public long[] kvCacheBytesPerCard() {
        return executor.kvCacheBytesPerCard().clone();
    }

    @Override
    public CollectiveAlgorithm allreduceAlgorithm() {
        return executor.lastAlgorithm();
    }

    @Override
    public int[] tokenize(String text) {
        Tokenizer t = tokenizer();
        return t.encode(text, t.addsBos());
    }

    @Override
    public Optional<ChatTemplate> chatTemplate() {
        return LlamaConfig.string(file, "tokenizer.chat_template").map(source -> {
            Tokenizer t = tokenizer();
            return new ChatTemplate(source, t.tokenText(t.bosToken()), t.tokenText(t.eosToken()));
        });
    }

    @Override
    public int[] tokenizeChat(String text) {
        Tokenizer t = tokenizer();
        String bos = t.tokenText(t.bosToken());
        // llama.cpp strips a BOS the template wrote when the tokenizer adds one itself
        String body = t.addsBos() && !bos.isEmpty() && text.startsWith(bos) ? text.substring(bos.length()) : text;
        return t.encodeWithSpecialTokens(body, t.addsBos());
    }

    @Override
    public String detokenize(List<Integer> tokens) {
        return tokenizer().decode(tokens);
    }

    @Override
    public GenerationResult generate(GenerationRequest request, TokenListener listener) {
        int[] prompt = request.prompt();
        int n = request.maxTokens();
        if (prompt.length == 0) {
            throw new BadDimsException("the prompt has no token; give at least one");
        }
        if (n < 0) {
            throw new BadDimsException("cannot generate " + n + " tokens");
        }
        int context = contextLength();
        if (prompt.length + Math.max(0L, n - 1L) > context) {
            throw new BadDimsException(prompt.length + " prompt tokens and " + n + " new ones exceed the context of "
                    + context + " tokens");
        }
        Sampler sampler = sampler(request.sampling());
        Tokenizer text = tokenizer();
        int eos = text.eosToken();
        TokenListener own = listener != null ? listener : event -> { };
        turn.lock();
        try {
            observers.tell(o -> o.started(this, request));
            GenerationResult result;
            try {
                result = run(prompt, n, sampler, eos, text, own);
            } catch (RuntimeException e) {
                observers.tell(o -> o.failed(this, e));
                throw e;
            }
            observers.tell(o -> o.finished(this, result));
            return result;
        } finally {
            turn.unlock();
        }
    }

    private static Sampler sampler(Sampling s) {
        try {
            return new Sampler((float) s.temperature(), s.topK(), (float) s.topP(), s.seed());
        } catch (IllegalArgumentException e) {
            throw new BadDimsException(e.getMessage());
        }
    }

    /** The same steps as {@code Generation.run} (same tokens, bit for bit), each pass timed, each token told. */
    private GenerationResult run(int[] prompt, int n, Sampler sampler, int eos, Tokenizer tokenizer,
            TokenListener listener) {
        double predicted = executor.plan().secondsPerToken();
        executor.resetStats();
        float[] logits = new float[vocabulary()];
        Pass pass = new Pass();
        int position = 0;
        // the prompt in batched passes (one product over a pass's tokens); a cancelled request stops between passes
        while (position < prompt.length) {
            if (listener.cancelled()) {
                PassTimings none = timings(executor.stats());
                return new GenerationResult(List.of(), "", FinishReason.CANCELLED, none, none);
            }
            int end = Math.min(prompt.length, position + PROMPT_PASS);
            pass.prefill(prompt, position, end, logits);
            position = end;
        }
        PassTimings promptTimings = timings(executor.stats());
        executor.resetStats();
        List<Integer> out = new ArrayList<>();
        String emitted = "";
        double generatingSeconds = 0;
        FinishReason finish = FinishReason.LENGTH;
        for (int i = 0; i < n; i++) {
            int next = sampler.sample(logits);
            out.add(next);
            generatingSeconds += pass.seconds;
            boolean last = next == eos || i == n - 1;
            // the last token completes what it can: nothing comes after it to finish a character
            String decoded = tokenizer.decode(out);
            String now = last ? decoded : stableText(decoded);
            String piece = now.startsWith(emitted) ? now.substring(emitted.length()) : "";
            emitted = now.startsWith(emitted) ? now : emitted;
            TokenEvent event = new TokenEvent(i, next, piece, pass.seconds, pass.computeSeconds, predicted,
                    (i + 1) / generatingSeconds);
            listener.token(event);
            observers.tell(o -> o.token(this, event));
            if (next == eos) {
                finish = FinishReason.STOP;
                break;
            }
            if (i == n - 1) {
                break;
            }
            if (listener.cancelled()) {
                finish = FinishReason.CANCELLED;
                break;
            }
            pass.forward(next, position++, logits);
        }
        return new GenerationResult(out, tokenizer.decode(out), finish, promptTimings, timings(executor.stats()));
    }

    /** Text without a trailing replacement character: the rest of that character may come with the next token. */
    private static String stableText(String text) {
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == '\uFFFD') {
            end--;
        }
        return text.substring(0, end);
    }

    /** One forward pass, its wall time and the busiest card's busy time. */
    private final class Pass {
        double seconds;
        double computeSeconds;

        void forward(int token, int position, float[] logits) {
            long[] before = executor.stats().cardComputeNanos();
            long start = System.nanoTime();
            executor.forward(token, position, logits);
            finish(before, start);
        }

        /** Prompt tokens [from, to) at their own positions; the first generated token's time is the last such call. */
        void prefill(int[] prompt, int from, int to, float[] logits) {
            long[] before = executor.stats().cardComputeNanos();
            long start = System.nanoTime();
            executor.prefill(prompt, from, to, from, logits);
            finish(before, start);
        }

        private void finish(long[] before, long start) {
            seconds = (System.nanoTime() - start) / 1e9;
            long[] after = executor.stats().cardComputeNanos();
            long busiest = 0;
            for (int c = 0; c < after.length; c++) {
                busiest = Math.max(busiest, after[c] - before[c]);
            }
            computeSeconds = busiest / 1e9;
        }
    }

    private static PassTimings timings(PlanExecutor.Stats s) {
        return new PassTimings(s.tokens(), s.wallNanos(), s.cardComputeNanos(), s.collectives(), s.handOffs());
    }

    @Override
    public float[] logits(int token, int position) {
        turn.lock();
        try {
            return executor.forward(token, position);
        } finally {
            turn.unlock();
        }
    }

    @Override
    public PassTimings logitsTimings() {
        return timings(executor.stats());
    }

    @Override
    public void close() {
        turn.lock();
        try {
            executor.close();
        } finally {
            turn.unlock();
            observers.tell(o -> o.closed(this));
        }
    }
}
