package org.popsolutions.spanker.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code ./spanker serve} as a user runs it: the launcher in its own OS process on the built bundles, a real HTTP
 * client against the port it announces, then stopped as Ctrl-C or a service manager stops it. Timeouts are safety
 * nets only.
 */
class ServeProcessTest {
    static final Duration SAFETY = Duration.ofSeconds(120);
    static final Path MODEL = Paths.get("../../shared/golden/model/tiny-llama-q8_0.gguf").toAbsolutePath().normalize();

    @Test
    void serveAnswersOpenAiRequestsOn127001AndStopsOnSigterm() throws Exception {
        assertTrue(Files.isRegularFile(MODEL), "golden model " + MODEL + " is missing");
        Path target = Path.of("target").toAbsolutePath();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            command.add("--add-modules=jdk.incubator.vector");
        }
        command.addAll(List.of("-Dspanker.bundles=" + target.resolve("bundles"), "-Dspanker.timeout.ms=30000",
                "-cp", target.resolve("classes") + File.pathSeparator + target.resolve("lib") + File.separator + "*",
                Main.class.getName(), "serve", "--model", MODEL.toString(), "--port", "0", "--cards", "2",
                "--queue", "2"));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            String announced = out.readLine();
            assertTrue(announced != null && announced.startsWith("serving tiny-llama-q8_0 "), announced);
            Matcher m = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/").matcher(announced);
            assertTrue(m.find(), announced);
            URI address = URI.create(m.group());
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<String> health = client.send(HttpRequest.newBuilder(address.resolve("health"))
                    .timeout(SAFETY).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertTrue(health.body().contains("\"status\":\"ok\""), health.body());
            HttpResponse<String> stream = client.send(HttpRequest.newBuilder(address.resolve("v1/completions"))
                    .timeout(SAFETY).POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"tiny-llama-q8_0\","
                            + "\"prompt\":\"The sails\",\"max_tokens\":4,\"temperature\":0,\"stream\":true}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, stream.statusCode(), stream.body());
            assertTrue(stream.body().strip().endsWith("data: [DONE]"), stream.body());
            HttpResponse<String> bad = client.send(HttpRequest.newBuilder(address.resolve("v1/completions"))
                    .timeout(SAFETY).POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(400, bad.statusCode());
            assertTrue(bad.body().startsWith("{\"error\":{"), bad.body());

            process.destroy();
            assertTrue(process.waitFor(SAFETY.toSeconds(), TimeUnit.SECONDS), "stopped on SIGTERM");
            try {
                client.send(HttpRequest.newBuilder(address.resolve("health")).timeout(SAFETY).build(),
                        HttpResponse.BodyHandlers.ofString());
                throw new AssertionError("the port still answers after the process ended");
            } catch (ConnectException expected) {
                // the port went with the process
            }
        } finally {
            process.destroyForcibly();
            process.waitFor(SAFETY.toSeconds(), TimeUnit.SECONDS);
        }
    }
}
