package org.popsolutions.spanker.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.runtime.ChatTemplate;
import org.popsolutions.spanker.api.runtime.FinishReason;
import org.popsolutions.spanker.api.runtime.GenerationRequest;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.ModelLoad;
import org.popsolutions.spanker.api.runtime.Sampling;
import org.popsolutions.spanker.api.runtime.ServeOptions;
import org.popsolutions.spanker.api.runtime.ServingEndpoint;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;
import org.popsolutions.spanker.ggml.gguf.GgufValue;
import org.popsolutions.spanker.ggml.gguf.GgufWriter;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.LlamaConfig;
import org.popsolutions.spanker.model.llama.ManualPlans;
import org.popsolutions.spanker.runtime.TestSupport;
import org.popsolutions.spanker.runtime.service.PlanInferenceService;
import org.popsolutions.spanker.scheduler.collective.ScheduledCollectives;
import org.popsolutions.spanker.serve.jdk.JdkCompletionServer;

/** The endpoint over real sockets with the JDK's HTTP client; timeouts are safety nets, never assertions. */
class OpenAiEndpointTest {
    static final Duration SAFETY = Duration.ofSeconds(120);
    static final ScheduledCollectives ENGINE = TestSupport.engine();
    static LoadedModel loaded;
    GatedModel model;
    ServingEndpoint endpoint;
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(SAFETY).build();

    @BeforeAll
    static void load() {
        loaded = load(GoldenModels.model("tiny-llama-q8_0.gguf"));
    }

    static LoadedModel load(Path file) {
        GgufFile gguf = GgufReader.open(file);
        int context = LlamaConfig.of(gguf).contextLength();
        return new PlanInferenceService(TestSupport.cards(), ENGINE).load(new ModelLoad(file,
                ManualPlans.tensorParallel(GgufModelReader.shapeOf(gguf), 2, context),
                TestSupport.topology(TopologyKind.RING, 2), ActivationMode.GGML, 1, context, CollectiveAlgorithm.AUTO));
    }

    @AfterAll
    static void unload() {
        loaded.close();
        TestSupport.stop(ENGINE);
    }

    void serve(int queue) {
        serve(queue, loaded, null);
    }

    void serve(int queue, LoadedModel served, ChatTemplate claimed) {
        model = new GatedModel(served);
        if (claimed != null) {
            model.template = Optional.of(claimed);
        }
        endpoint = new JdkCompletionServer().serve(model, new ServeOptions("tiny", 0, queue));
    }

    @AfterEach
    void stop() {
        if (model != null) {
            model.gate.countDown();
            model.afterFirstToken.countDown();
        }
        if (endpoint != null) {
            endpoint.close();
        }
    }

    HttpResponse<String> post(String path, String body) throws Exception {
        return client.send(request(path).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws Exception {
        return client.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(endpoint.address().resolve(path)).timeout(SAFETY)
                .header("Content-Type", "application/json");
    }

    static JsonObject json(HttpResponse<String> r) {
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.toString());
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    /** The text the model generates greedily for this prompt, asked of the model directly. */
    static String expected(String prompt, int n) {
        return loaded.generate(new GenerationRequest(loaded.tokenize(prompt), n, Sampling.GREEDY), null).text();
    }

    /** The concatenated text of a server-sent event stream, checking every event is JSON and it ends [DONE]. */
    static String streamed(String body, boolean chat) {
        StringBuilder text = new StringBuilder();
        List<String> data = new ArrayList<>();
        for (String line : body.split("\n")) {
            if (line.startsWith("data: ")) {
                data.add(line.substring(6));
            } else {
                assertTrue(line.isEmpty() || line.startsWith(":"), "not an SSE line: " + line);
            }
        }
        assertEquals("[DONE]", data.get(data.size() - 1));
        String finish = null;
        for (String d : data.subList(0, data.size() - 1)) {
            JsonObject choice = JsonParser.parseString(d).getAsJsonObject().getAsJsonArray("choices").get(0)
                    .getAsJsonObject();
            if (chat) {
                JsonObject delta = choice.getAsJsonObject("delta");
                if (delta.has("content")) {
                    text.append(delta.get("content").getAsString());
                }
            } else {
                text.append(choice.get("text").getAsString());
            }
            if (!choice.get("finish_reason").isJsonNull()) {
                finish = choice.get("finish_reason").getAsString();
            }
        }
        assertNotNull(finish, "the last chunk carries finish_reason");
        return text.toString();
    }

    static void until(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + SAFETY.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("safety net: never " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void healthAndModels() throws Exception {
        serve(4);
        JsonObject health = json(get("/health"));
        assertEquals("ok", health.get("status").getAsString());
        assertEquals(0, health.get("queueDepth").getAsInt());
        JsonObject models = json(get("/v1/models"));
        assertEquals("list", models.get("object").getAsString());
        assertEquals("tiny", models.getAsJsonArray("data").get(0).getAsJsonObject().get("id").getAsString());
        assertTrue(endpoint.address().getHost().equals("127.0.0.1"));
    }

    @Test
    void completionsWholeAndStreamedGiveTheModelsText() throws Exception {
        serve(4);
        String want = expected("The sails", 8);
        HttpResponse<String> whole = post("/v1/completions",
                "{\"model\":\"tiny\",\"prompt\":\"The sails\",\"max_tokens\":8,\"temperature\":0}");
        assertEquals(200, whole.statusCode(), whole.body());
        JsonObject o = json(whole);
        assertEquals("text_completion", o.get("object").getAsString());
        JsonObject choice = o.getAsJsonArray("choices").get(0).getAsJsonObject();
        assertEquals(want, choice.get("text").getAsString());
        assertEquals(loaded.tokenize("The sails").length, o.getAsJsonObject("usage").get("prompt_tokens").getAsInt());
        HttpResponse<String> stream = post("/v1/completions",
                "{\"prompt\":\"The sails\",\"max_tokens\":8,\"temperature\":0,\"stream\":true}");
        assertEquals(200, stream.statusCode());
        assertTrue(stream.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        assertEquals(want, streamed(stream.body(), false));
    }

    @Test
    void chatCompletionsWholeAndStreamed() throws Exception {
        serve(4);
        String want = expected("user: Hi\nassistant:", 6);
        String body = "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":6,"
                + "\"temperature\":0";
        JsonObject o = json(post("/v1/chat/completions", body + "}"));
        assertEquals("chat.completion", o.get("object").getAsString());
        JsonObject message = o.getAsJsonArray("choices").get(0).getAsJsonObject().getAsJsonObject("message");
        assertEquals("assistant", message.get("role").getAsString());
        assertEquals(want, message.get("content").getAsString());
        HttpResponse<String> stream = post("/v1/chat/completions", body + ",\"stream\":true}");
        assertEquals(want, streamed(stream.body(), true));
    }

    @Test
    void badRequestsAreAnsweredWithAJsonError() throws Exception {
        serve(4);
        String[][] cases = {
            {"/v1/completions", "{\"prompt\":\"x\",", "400", null},
            {"/v1/completions", "{prompt:\"x\"}", "400", null},
            {"/v1/completions", "[1,2]", "400", null},
            {"/v1/completions", "{\"prompt\":\"x\"} {}", "400", null},
            {"/v1/completions", "", "400", null},
            {"/v1/completions", "{\"max_tokens\":4}", "400", "prompt"},
            {"/v1/completions", "{\"prompt\":42}", "400", "prompt"},
            {"/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":\"4\"}", "400", "max_tokens"},
            {"/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":2.5}", "400", "max_tokens"},
            {"/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":-1}", "400", "max_tokens"},
            {"/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":0}", "400", "max_tokens"},
            {"/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":100000000000}", "400", "max_tokens"},
            {"/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1000000}", "400", "max_tokens"},
            {"/v1/completions", "{\"prompt\":\"x\",\"temperature\":\"hot\"}", "400", "temperature"},
            {"/v1/completions", "{\"prompt\":\"x\",\"temperature\":3}", "400", "temperature"},
            {"/v1/completions", "{\"prompt\":\"x\",\"stream\":\"yes\"}", "400", "stream"},
            {"/v1/completions", "{\"prompt\":\"x\",\"model\":\"gpt-4\"}", "400", "model"},
            {"/v1/completions", "{\"prompt\":\"x\",\"n\":2}", "400", "n"},
            {"/v1/completions", "{\"prompt\":\"x\",\"stop\":[\"\\n\"]}", "400", "stop"},
            {"/v1/completions", "{\"prompt\":[1,-5]}", "400", "prompt"},
            {"/v1/chat/completions", "{\"messages\":[]}", "400", "messages"},
            {"/v1/chat/completions", "{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", "400", "messages"},
            {"/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":5}]}", "400", "messages"},
            {"/v1/nothing", "{}", "404", null},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = post(c[0], c[1]);
            assertEquals(Integer.parseInt(c[2]), r.statusCode(), c[1] + " -> " + r.body());
            JsonObject error = json(r).getAsJsonObject("error");
            assertTrue(error.get("message").getAsString().length() > 5, r.body());
            if (c[3] != null) {
                assertEquals(c[3], error.get("param").getAsString(), c[1] + " -> " + r.body());
            }
        }
        assertEquals(405, get("/v1/completions").statusCode());
        assertEquals(405, post("/health", "{}").statusCode());
        assertEquals(0, model.results.size(), "no bad request reached the model");
        assertEquals(200, post("/v1/completions", "{\"prompt\":[1,5,9],\"max_tokens\":2}").statusCode());
    }

    @Test
    void concurrentClientsAreAllServedInTurn() throws Exception {
        serve(8);
        int clients = 6;
        List<String> want = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            want.add(expected("Ship " + i, 3 + i));
        }
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            String body = "{\"prompt\":\"Ship " + i + "\",\"max_tokens\":" + (3 + i) + ",\"temperature\":0"
                    + (i % 2 == 0 ? ",\"stream\":true}" : "}");
            answers.add(client.sendAsync(request("/v1/completions").POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < clients; i++) {
            HttpResponse<String> r = answers.get(i).get(SAFETY.toSeconds(), TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), r.body());
            String text = i % 2 == 0 ? streamed(r.body(), false)
                    : json(r).getAsJsonArray("choices").get(0).getAsJsonObject().get("text").getAsString();
            assertEquals(want.get(i), text, "client " + i);
        }
        // the server counts an answer after its last byte is written, so the client may read it a moment earlier
        until(() -> endpoint.served() == clients, "all " + clients + " answers counted as served");
        assertEquals(clients, model.results.size(), "one generation each, none lost");
    }

    @Test
    void aFullQueueIsAnswered503AndTheQueuedRequestsStillComplete() throws Exception {
        serve(1);
        model.gate = new CountDownLatch(1);
        String body = "{\"prompt\":\"The sails\",\"max_tokens\":3,\"temperature\":0}";
        CompletableFuture<HttpResponse<String>> running = client.sendAsync(request("/v1/completions")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        until(() -> endpoint.running() == 1, "generating");
        CompletableFuture<HttpResponse<String>> queued = client.sendAsync(request("/v1/completions")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        until(() -> endpoint.queueDepth() == 1, "queued");
        assertEquals(1, json(get("/health")).get("queueDepth").getAsInt());
        HttpResponse<String> refused = post("/v1/completions", body);
        assertEquals(503, refused.statusCode());
        assertEquals("server_busy", json(refused).getAsJsonObject("error").get("type").getAsString());
        assertEquals(1, endpoint.rejected());
        model.gate.countDown();
        assertEquals(200, running.get(SAFETY.toSeconds(), TimeUnit.SECONDS).statusCode());
        assertEquals(200, queued.get(SAFETY.toSeconds(), TimeUnit.SECONDS).statusCode());
        assertEquals(0, endpoint.queueDepth());
    }

    @Test
    void aStreamingClientLeavingWhileQueuedFreesItsPlace() throws Exception {
        serve(1);
        model.gate = new CountDownLatch(1);
        String body = "{\"prompt\":\"The sails\",\"max_tokens\":3,\"temperature\":0}";
        CompletableFuture<HttpResponse<String>> running = client.sendAsync(request("/v1/completions")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        until(() -> endpoint.running() == 1, "generating");
        String stream = "{\"prompt\":\"x\",\"max_tokens\":3,\"stream\":true}";
        try (Socket socket = new Socket(endpoint.address().getHost(), endpoint.address().getPort())) {
            socket.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                    + stream.length() + "\r\n\r\n" + stream).getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            until(() -> endpoint.queueDepth() == 1, "queued");
        }
        // its heartbeat finds the closed connection; the place in the queue is free again
        until(() -> endpoint.cancelled() == 1 && endpoint.queueDepth() == 0, "the queued client noticed gone");
        CompletableFuture<HttpResponse<String>> next = client.sendAsync(request("/v1/completions")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        until(() -> endpoint.queueDepth() == 1, "the next one queued");
        model.gate.countDown();
        assertEquals(200, running.get(SAFETY.toSeconds(), TimeUnit.SECONDS).statusCode());
        assertEquals(200, next.get(SAFETY.toSeconds(), TimeUnit.SECONDS).statusCode());
        assertEquals(2, model.results.size(), "the client that left never reached the model");
        assertEquals(0, endpoint.rejected());
    }

    @Test
    void aClientLeavingMidStreamCancelsItsGenerationAndTheNextIsServed() throws Exception {
        serve(2);
        model.afterFirstToken = new CountDownLatch(1);
        int room = loaded.contextLength() - 2;
        String body = "{\"prompt\":[1,5],\"max_tokens\":" + room + ",\"temperature\":0,\"stream\":true}";
        try (Socket socket = new Socket(endpoint.address().getHost(), endpoint.address().getPort())) {
            socket.setSoTimeout((int) SAFETY.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null && !line.contains("data: {")) {
                // status line, headers, chunk sizes
            }
            assertNotNull(line, "a first token arrived");
        }
        // the client is gone; let the generation go on and find out
        model.afterFirstToken.countDown();
        until(() -> !model.results.isEmpty(), "finished");
        assertEquals(FinishReason.CANCELLED, model.results.get(0).finish());
        assertTrue(model.results.get(0).tokens().size() < room, "stopped early: "
                + model.results.get(0).tokens().size());
        until(() -> endpoint.cancelled() == 1, "counted");
        HttpResponse<String> next = post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":2}");
        assertEquals(200, next.statusCode(), next.body());
    }

    /** The golden model with a chat template in its metadata, as a converted chat model carries one. */
    static Path withChatTemplate(Path dir, String template) {
        GgufFile golden = GgufReader.open(GoldenModels.model("tiny-llama-q8_0.gguf"));
        GgufWriter w = new GgufWriter().putAll(golden.metadata())
                .put("tokenizer.chat_template", GgufValue.string(template));
        for (GgufTensorInfo t : golden.tensors()) {
            w.tensor(t.name(), t.type(), t.shape(), golden.data(t));
        }
        Path file = dir.resolve("tiny-chat.gguf");
        w.write(file);
        return file;
    }

    @Test
    void chatRunsTheModelsOwnTemplateWithItsSpecialTokens(@TempDir Path dir) throws Exception {
        // Zephyr's layout, short enough for the golden model's 128-token context
        String template = "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content']"
                + " | trim + eos_token }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";
        try (LoadedModel templated = load(withChatTemplate(dir, template))) {
            assertEquals(template, templated.chatTemplate().orElseThrow().source());
            assertEquals("</s>", templated.chatTemplate().orElseThrow().eosToken());
            serve(4, templated, null);
            JsonObject models = json(get("/v1/models"));
            assertEquals("the model's tokenizer.chat_template", models.getAsJsonArray("data").get(0)
                    .getAsJsonObject().get("chat_template").getAsString());
            int[] prompt = templated.tokenizeChat("<|system|>\nBe brief.</s><|user|>\nHi</s><|assistant|>\n");
            int eos = templated.endOfSequence();
            assertEquals(2, java.util.Arrays.stream(prompt).filter(t -> t == eos).count(),
                    "each </s> the template wrote is the end-of-sequence token, not its letters");
            assertEquals(1, java.util.Arrays.stream(prompt).filter(t -> t == 1).count(), "one BOS");
            String want = templated.generate(new GenerationRequest(prompt, 6, Sampling.GREEDY), null).text();
            String body = "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief. \"},"
                    + "{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":6,\"temperature\":0";
            HttpResponse<String> whole = post("/v1/chat/completions", body + "}");
            assertEquals(200, whole.statusCode(), whole.body());
            JsonObject o = json(whole);
            assertEquals(prompt.length, o.getAsJsonObject("usage").get("prompt_tokens").getAsInt());
            assertEquals(want, o.getAsJsonArray("choices").get(0).getAsJsonObject().getAsJsonObject("message")
                    .get("content").getAsString());
            assertEquals(want, streamed(post("/v1/chat/completions", body + ",\"stream\":true}").body(), true));
        }
    }

    @Test
    void aModelWithoutATemplateGetsThePlainLayoutAndSaysSo() throws Exception {
        serve(4);
        assertTrue(loaded.chatTemplate().isEmpty());
        assertTrue(json(get("/v1/models")).getAsJsonArray("data").get(0).getAsJsonObject().get("chat_template")
                .getAsString().startsWith("plain (the model has no tokenizer.chat_template)"));
    }

    @Test
    void aTemplateThatRefusesOrFailsIsAJsonErrorNamingTheProblem() throws Exception {
        String chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":2}";
        serve(4, loaded, new ChatTemplate("{% if messages[0]['role'] != 'system' %}"
                + "{{ raise_exception('the first message must be the system prompt') }}{% endif %}", "<s>", "</s>"));
        HttpResponse<String> refused = post("/v1/chat/completions", chat);
        assertEquals(400, refused.statusCode());
        JsonObject error = json(refused).getAsJsonObject("error");
        assertEquals("the model's chat template refused the messages: the first message must be the system prompt",
                error.get("message").getAsString());
        assertEquals("messages", error.get("param").getAsString());
        endpoint.close();

        serve(4, loaded, new ChatTemplate("{% for m in messages %}\n{{ m.content | shuffle }}{% endfor %}", "<s>",
                "</s>"));
        HttpResponse<String> failed = post("/v1/chat/completions", chat);
        assertEquals(500, failed.statusCode());
        assertEquals("the model's chat template failed: line 2: unknown filter 'shuffle'",
                json(failed).getAsJsonObject("error").get("message").getAsString());
        endpoint.close();

        serve(4, loaded, new ChatTemplate("{% if messages %}unclosed", "<s>", "</s>"));
        assertTrue(json(get("/v1/models")).getAsJsonArray("data").get(0).getAsJsonObject().get("chat_template")
                .getAsString().contains("does not parse"));
        HttpResponse<String> broken = post("/v1/chat/completions", chat);
        assertEquals(500, broken.statusCode());
        assertEquals("the model's chat template (tokenizer.chat_template) does not parse: the template ends inside a"
                + " block: expected one of [elif, else, endif]; /v1/completions with a prompt still works",
                json(broken).getAsJsonObject("error").get("message").getAsString());
        // completions are unaffected
        assertEquals(200, post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":2}").statusCode());
    }

    @Test
    void aClientLeavingAWholeAnswerMidGenerationCancelsItAndTheNextIsServedAtOnce() throws Exception {
        serve(2);
        String slowWant = expected("The sails", 40);
        model.tokenPauseMillis = 40;
        int room = loaded.contextLength() - 2;
        String body = "{\"prompt\":[1,5],\"max_tokens\":" + room + ",\"temperature\":0}";
        try (Socket socket = new Socket(endpoint.address().getHost(), endpoint.address().getPort())) {
            socket.setSoTimeout((int) SAFETY.toMillis());
            socket.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            String status = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.UTF_8)).readLine();
            // a whole answer that outlasts a heartbeat has started (200, JSON to come): the client leaves now
            assertEquals("HTTP/1.1 200 OK", status);
            assertTrue(model.results.isEmpty(), "still generating when the client left");
        }
        until(() -> !model.results.isEmpty(), "finished");
        assertEquals(FinishReason.CANCELLED, model.results.get(0).finish());
        assertTrue(model.results.get(0).tokens().size() < room, "stopped early: "
                + model.results.get(0).tokens().size());
        until(() -> endpoint.cancelled() == 1, "counted");
        assertEquals(0, endpoint.served());
        // the next is served at once, and a client that stays gets valid JSON after the keep-alive spaces
        HttpResponse<String> next = post("/v1/completions",
                "{\"prompt\":\"The sails\",\"max_tokens\":40,\"temperature\":0}");
        assertEquals(200, next.statusCode(), next.body());
        assertTrue(next.body().startsWith(" "), "keep-alive spaces came first");
        assertEquals(slowWant, json(next).getAsJsonArray("choices").get(0).getAsJsonObject().get("text")
                .getAsString());
        until(() -> endpoint.served() == 1, "the answer counted as served (it is counted after its last byte)");
    }
}
