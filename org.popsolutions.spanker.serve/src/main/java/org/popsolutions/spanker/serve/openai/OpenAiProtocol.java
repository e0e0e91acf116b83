package org.popsolutions.spanker.serve.openai;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.runtime.FinishReason;
import org.popsolutions.spanker.api.runtime.GenerationRequest;
import org.popsolutions.spanker.api.runtime.GenerationResult;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.ServingStatus;
import org.popsolutions.spanker.api.runtime.TokenEvent;
import org.popsolutions.spanker.api.runtime.TokenListener;

/**
 * The OpenAI-compatible endpoint for one loaded model, whatever HTTP server carries it: {@code /v1/completions},
 * {@code /v1/chat/completions} (streamed as server-sent events ending with {@code data: [DONE]}, or whole),
 * {@code /v1/models}, {@code /health}. One generation runs at a time; up to {@code queueCapacity} requests wait
 * their turn in arrival order, one more is answered 503. Errors are OpenAI's JSON error object.
 */
public final class OpenAiProtocol implements ServingStatus {
    static final String JSON = "application/json";
    /**
     * While a request waits its turn or generates without writing, a keep-alive this often finds a client that left
     * (an SSE comment line, or a space before a whole answer's JSON): neither the JDK's HTTP server nor a servlet
     * lets a handler read its connection past the request, so writing is the only way to learn it closed. The
     * first write after the client closed still succeeds (its host answers with a reset), the next fails.
     */
    private static final long HEARTBEAT_NANOS = 500_000_000L;

    private final LoadedModel model;
    private final String modelId;
    private final int queueCapacity;
    private final ChatLayout chat;
    private final long created = System.currentTimeMillis() / 1000;
    private final ReentrantLock turn = new ReentrantLock(true);
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong served = new AtomicLong();
    private final AtomicLong cancelled = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private int admitted;
    private volatile boolean running;
    private volatile boolean closing;

    public OpenAiProtocol(LoadedModel model, String modelId, int queueCapacity) {
        this.model = model;
        this.modelId = modelId;
        this.queueCapacity = queueCapacity;
        this.chat = new ChatLayout(model);
    }

    /** Which layout chat requests get: the model's chat template, or the plain one when it has none (and why). */
    public String chatLayout() {
        return chat.description();
    }

    /** Answers one request; never throws for a request's fault (that is a 4xx answer). */
    public void handle(Exchange exchange) throws IOException {
        try {
            String path = exchange.path();
            switch (path) {
                case "/health" -> get(exchange, this::health);
                case "/v1/models" -> get(exchange, this::models);
                case "/v1/completions" -> post(exchange, false);
                case "/v1/chat/completions" -> post(exchange, true);
                default -> throw new BadRequest(404, "invalid_request_error", null, "no endpoint " + path
                        + "; this server has /v1/completions, /v1/chat/completions, /v1/models, /health");
            }
        } catch (BadRequest bad) {
            respondJson(exchange, bad.status, error(bad.getMessage(), bad.type, bad.param));
        }
    }

    private void get(Exchange exchange, java.util.function.Supplier<JsonObject> answer) throws IOException {
        if (!exchange.method().equals("GET")) {
            throw new BadRequest(405, "invalid_request_error", null, exchange.method() + " " + exchange.path()
                    + " is not allowed; use GET");
        }
        respondJson(exchange, 200, answer.get());
    }

    private JsonObject health() {
        JsonObject o = new JsonObject();
        o.addProperty("status", closing ? "closing" : "ok");
        o.addProperty("model", modelId);
        o.addProperty("running", running());
        o.addProperty("queueDepth", queueDepth());
        o.addProperty("queueCapacity", queueCapacity);
        o.addProperty("served", served.get());
        o.addProperty("cancelled", cancelled.get());
        o.addProperty("rejected", rejected.get());
        return o;
    }

    private JsonObject models() {
        JsonObject m = new JsonObject();
        m.addProperty("id", modelId);
        m.addProperty("object", "model");
        m.addProperty("created", created);
        m.addProperty("owned_by", "spanker");
        m.addProperty("chat_template", chat.description());
        JsonArray data = new JsonArray();
        data.add(m);
        JsonObject o = new JsonObject();
        o.addProperty("object", "list");
        o.add("data", data);
        return o;
    }

    private void post(Exchange exchange, boolean chat) throws IOException {
        if (!exchange.method().equals("POST")) {
            throw new BadRequest(405, "invalid_request_error", null, exchange.method() + " " + exchange.path()
                    + " is not allowed; use POST with a JSON body");
        }
        CompletionRequest request = CompletionRequest.of(CompletionRequest.parse(exchange.body()), chat, model,
                modelId, this.chat);
        admit();
        try {
            if (request.stream()) {
                stream(exchange, request);
            } else {
                whole(exchange, request);
            }
        } finally {
            synchronized (this) {
                admitted--;
            }
        }
    }

    /** One generating and {@code queueCapacity} waiting at most; one more is refused at once. */
    private void admit() {
        synchronized (this) {
            if (closing) {
                throw new BadRequest(503, "server_error", null, "the endpoint is shutting down");
            }
            if (admitted >= 1 + queueCapacity) {
                rejected.incrementAndGet();
                throw new BadRequest(503, "server_busy", null, "the queue is full (" + queueCapacity
                        + " requests waiting behind the one generating); retry later");
            }
            admitted++;
        }
    }

    /** Waits its turn (in arrival order), asking every second whether its client is still there; null when not. */
    private GenerationResult generate(CompletionRequest request, TokenListener listener) {
        try {
            while (!turn.tryLock(1, TimeUnit.SECONDS)) {
                if (listener.cancelled()) {
                    return null;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        try {
            if (listener.cancelled()) {
                return null;
            }
            running = true;
            return model.generate(new GenerationRequest(request.prompt(), request.maxTokens(), request.sampling()),
                    listener);
        } finally {
            running = false;
            turn.unlock();
        }
    }

    /**
     * A whole answer. One that takes longer than a heartbeat starts a 200 JSON answer and writes a space every
     * heartbeat (JSON allows whitespace before the value) to notice a client that left; an error after that start
     * is the error object with status 200, since the status is already sent.
     */
    private void whole(Exchange exchange, CompletionRequest request) throws IOException {
        PendingAnswer answer = new PendingAnswer(exchange);
        GenerationResult result;
        try {
            result = generate(request, new TokenListener() {
                @Override
                public void token(TokenEvent event) {
                }

                @Override
                public boolean cancelled() {
                    answer.heartbeat();
                    return closing || answer.gone();
                }
            });
        } catch (SpankerException e) {
            answer.respond(500, error(e.getMessage(), "server_error", null));
            return;
        }
        if (answer.gone()) {
            cancelled.incrementAndGet();
            answer.close();
            return;
        }
        if (result == null || result.finish() == FinishReason.CANCELLED) {
            answer.respond(503, error("the endpoint shut down before the answer was complete", "server_error",
                    null));
            return;
        }
        String id = (request.chat() ? "chatcmpl-" : "cmpl-") + ids.incrementAndGet();
        JsonObject choice = new JsonObject();
        choice.addProperty("index", 0);
        if (request.chat()) {
            JsonObject message = new JsonObject();
            message.addProperty("role", "assistant");
            message.addProperty("content", result.text());
            choice.add("message", message);
        } else {
            choice.addProperty("text", result.text());
            choice.add("logprobs", JsonNull.INSTANCE);
        }
        choice.addProperty("finish_reason", finishReason(result.finish()));
        JsonObject o = envelope(id, request.chat() ? "chat.completion" : "text_completion");
        JsonArray choices = new JsonArray();
        choices.add(choice);
        o.add("choices", choices);
        JsonObject usage = new JsonObject();
        usage.addProperty("prompt_tokens", request.prompt().length);
        usage.addProperty("completion_tokens", result.tokens().size());
        usage.addProperty("total_tokens", request.prompt().length + result.tokens().size());
        o.add("usage", usage);
        answer.respond(200, o);
        if (!answer.gone()) {
            served.incrementAndGet();
        }
    }

    private void stream(Exchange exchange, CompletionRequest request) throws IOException {
        String id = (request.chat() ? "chatcmpl-" : "cmpl-") + ids.incrementAndGet();
        String object = request.chat() ? "chat.completion.chunk" : "text_completion";
        OutputStream out = exchange.startEventStream();
        EventWriter events = new EventWriter(out, ":\n\n");
        if (request.chat()) {
            JsonObject delta = new JsonObject();
            delta.addProperty("role", "assistant");
            events.send(chunk(id, object, true, delta, null, null));
        }
        GenerationResult result;
        try {
            result = generate(request, new TokenListener() {
                @Override
                public void token(TokenEvent event) {
                    JsonObject delta = new JsonObject();
                    delta.addProperty("content", event.text());
                    events.send(chunk(id, object, request.chat(), delta, event.text(), null));
                }

                @Override
                public boolean cancelled() {
                    events.heartbeat();
                    return closing || events.gone();
                }
            });
        } catch (SpankerException e) {
            events.send("{\"error\":" + error(e.getMessage(), "server_error", null).get("error") + "}");
            events.close();
            return;
        }
        if (result == null || result.finish() == FinishReason.CANCELLED || events.gone()) {
            cancelled.incrementAndGet();
            events.close();
            return;
        }
        events.send(chunk(id, object, request.chat(), new JsonObject(), "", finishReason(result.finish())));
        events.sendRaw("[DONE]");
        events.close();
        if (!events.gone()) {
            served.incrementAndGet();
        }
    }

    private JsonObject chunk(String id, String object, boolean chat, JsonObject delta, String text, String finish) {
        JsonObject choice = new JsonObject();
        choice.addProperty("index", 0);
        if (chat) {
            choice.add("delta", delta);
        } else {
            choice.addProperty("text", text == null ? "" : text);
            choice.add("logprobs", JsonNull.INSTANCE);
        }
        if (finish == null) {
            choice.add("finish_reason", JsonNull.INSTANCE);
        } else {
            choice.addProperty("finish_reason", finish);
        }
        JsonObject o = envelope(id, object);
        JsonArray choices = new JsonArray();
        choices.add(choice);
        o.add("choices", choices);
        return o;
    }

    private JsonObject envelope(String id, String object) {
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("object", object);
        o.addProperty("created", System.currentTimeMillis() / 1000);
        o.addProperty("model", modelId);
        return o;
    }

    private static String finishReason(FinishReason finish) {
        return finish == FinishReason.STOP ? "stop" : "length";
    }

    static JsonObject error(String message, String type, String param) {
        JsonObject e = new JsonObject();
        e.addProperty("message", message);
        e.addProperty("type", type);
        if (param == null) {
            e.add("param", JsonNull.INSTANCE);
        } else {
            e.addProperty("param", param);
        }
        e.add("code", JsonNull.INSTANCE);
        JsonObject o = new JsonObject();
        o.add("error", e);
        return o;
    }

    private static void respondJson(Exchange exchange, int status, JsonObject body) throws IOException {
        exchange.respond(status, JSON, (body + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Refuses new requests and ends the running and waiting ones at their next step. */
    public void close() {
        closing = true;
    }

    @Override
    public synchronized int queueDepth() {
        return Math.max(0, admitted - (running ? 1 : 0));
    }

    @Override
    public int queueCapacity() {
        return queueCapacity;
    }

    @Override
    public int running() {
        return running ? 1 : 0;
    }

    @Override
    public long rejected() {
        return rejected.get();
    }

    public long served() {
        return served.get();
    }

    public long cancelled() {
        return cancelled.get();
    }

    /**
     * A whole answer that starts streaming (status 200, JSON) once it has taken a heartbeat, so that its keep-alive
     * spaces can find a client that left; until then nothing is sent and any status can still be given.
     */
    private static final class PendingAnswer {
        private final Exchange exchange;
        private final long start = System.nanoTime();
        private EventWriter started;
        private boolean cannotStream;

        PendingAnswer(Exchange exchange) {
            this.exchange = exchange;
        }

        void heartbeat() {
            if (started == null && !cannotStream && System.nanoTime() - start >= HEARTBEAT_NANOS) {
                try {
                    OutputStream out = exchange.startStream(JSON);
                    cannotStream = out == null;
                    started = out == null ? null : new EventWriter(out, " ");
                } catch (IOException e) {
                    cannotStream = true;
                }
            }
            if (started != null) {
                started.heartbeat();
            }
        }

        boolean gone() {
            return started != null && started.gone();
        }

        void respond(int status, JsonObject body) throws IOException {
            if (started == null) {
                respondJson(exchange, status, body);
            } else {
                started.write(body + "\n");
                started.close();
            }
        }

        void close() {
            if (started != null) {
                started.close();
            }
        }
    }

    /**
     * Server-sent events (or a started JSON answer) on one connection; the first failed write marks the client
     * gone, later writes are skipped.
     */
    private static final class EventWriter {
        private final OutputStream out;
        private final String keepAlive;
        private volatile boolean gone;
        private long lastWrite = System.nanoTime();

        EventWriter(OutputStream out, String keepAlive) {
            this.out = out;
            this.keepAlive = keepAlive;
        }

        boolean gone() {
            return gone;
        }

        void send(Object json) {
            sendRaw(json.toString());
        }

        void sendRaw(String data) {
            write("data: " + data + "\n\n");
        }

        /** An SSE comment or a space (clients skip both): the only way to learn a silent client left is to write. */
        void heartbeat() {
            if (System.nanoTime() - lastWrite >= HEARTBEAT_NANOS) {
                write(keepAlive);
            }
        }

        synchronized void write(String text) {
            if (gone) {
                return;
            }
            try {
                out.write(text.getBytes(StandardCharsets.UTF_8));
                out.flush();
                lastWrite = System.nanoTime();
            } catch (IOException e) {
                gone = true;
            }
        }

        void close() {
            try {
                out.close();
            } catch (IOException e) {
                gone = true;
            }
        }
    }
}
