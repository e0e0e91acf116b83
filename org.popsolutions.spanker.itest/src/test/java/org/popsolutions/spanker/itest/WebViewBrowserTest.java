package org.popsolutions.spanker.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.ClassRule;
import org.junit.Test;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExamServer;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.CommandStatus;
import org.popsolutions.spanker.device.sails.FleetCommand;

/**
 * The live web view in a real browser: Karaf (the distribution under test, {@code spanker-web} installed, Pax
 * Web on 127.0.0.1) runs as a server while this test, in the test JVM, drives Debian's headless Chromium
 * through Selenium. It counts the cards drawn, breaks a link through the mock cards' configuration file (as
 * an operator would) and waits for that link, and only that one, to turn red; the page's last picture is kept
 * as target/web-view.png. The Prometheus endpoint is read over HTTP with the same broken link. Then two emulated
 * cards in their own processes replace the mock, and a run on them is watched the same way.
 */
public class WebViewBrowserTest {
    private static final String CHROMIUM = "/usr/bin/chromium";
    private static final String CHROMEDRIVER = "/usr/bin/chromedriver";
    private static final String UP = "#1a7f37";
    private static final String DOWN = "#b42318";
    private static final Path UNPACKED = Path.of("target", "exam-web");
    private static final String HTTP_PORT;

    static {
        try {
            HTTP_PORT = SpankerContainer.freePort();
        } catch (IOException e) {
            throw new IllegalStateException("no free loopback port", e);
        }
    }

    @ClassRule
    public static final PaxExamServer KARAF = new PaxExamServer(WebViewBrowserTest.class);

    @Configuration
    public Option[] configuration() throws IOException {
        return SpankerContainer.options(UNPACKED,
                editConfigurationFilePut("etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", HTTP_PORT),
                editConfigurationFilePut("etc/org.ops4j.pax.web.cfg", "org.ops4j.pax.web.listening.addresses", "127.0.0.1"));
    }

    /**
     * Installs a Spanker feature into the running Karaf the way an operator can without a console: a features file
     * dropped into deploy/ whose feature is marked install="auto". (Booting Pax Web in the same stage as Pax
     * Exam's own features never finished here.)
     */
    private static void installFeature(Path karafHome, String feature) throws IOException {
        String version = SpankerContainer.requiredProperty("spanker.version");
        String name = "itest-" + feature;
        String features = "<features name=\"" + name + "\" xmlns=\"http://karaf.apache.org/xmlns/features/v1.6.0\">\n"
                + "  <repository>mvn:org.popsolutions.spanker/karaf-features/" + version + "/xml/features</repository>\n"
                + "  <feature name=\"" + name + "\" version=\"1.0.0\" install=\"auto\">\n"
                + "    <feature>" + feature + "</feature>\n  </feature>\n</features>\n";
        Path deploy = Files.createDirectories(karafHome.resolve("deploy"));
        Path temporary = deploy.resolve(name + ".xml.tmp");
        Files.writeString(temporary, features);
        Files.move(temporary, deploy.resolve(name + ".xml"), StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    public void pageDrawsTheCardsAndRecoloursALinkWhenItGoesDown() throws Exception {
        assertTrue("Debian's chromium at " + CHROMIUM + " (.ci/run installs it)", new File(CHROMIUM).canExecute());
        assertTrue("Debian's chromium-driver at " + CHROMEDRIVER + " (.ci/run installs it)",
                new File(CHROMEDRIVER).canExecute());
        String base = "http://127.0.0.1:" + HTTP_PORT;
        Path home = karafHome();
        serveGoldenModel(home);
        installFeature(home, "spanker-web");
        awaitHttp(base + "/spanker/state", "\"name\":\"mock3\"");
        checkOpenAiEndpoint(base);
        Path mockConfig = home.resolve("etc/org.popsolutions.spanker.device.mock.cfg");

        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1100,800");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER))
                .usingAnyFreePort().build();
        WebDriver browser = new ChromeDriver(service, options);
        try {
            browser.get(base + "/spanker");
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
            wait.until(page -> page.findElements(By.cssSelector("#topology g.card")).size() == 4);
            assertEquals(4, browser.findElements(By.cssSelector("#topology g.card")).size());
            assertEquals(8, browser.findElements(By.cssSelector("#topology line.link")).size());
            assertEquals(UP, attribute(browser, "0-1", "stroke"));
            assertEquals("bandwidth", browser.findElement(By.id("strategy")).getText());
            assertEquals(4, browser.findElements(By.cssSelector("#cards tbody tr")).size());
            // the plan of the served model, one row per card; then a run's tokens arrive as they are generated
            wait.until(page -> page.findElements(By.cssSelector("#plan tr.plan-card")).size() == 4);
            wait.until(page -> holdMemory(page, 4));
            HttpResponse<String> completion = post(base + "/v1/completions",
                    "{\"prompt\":\"The sails\",\"max_tokens\":12,\"temperature\":0}");
            assertEquals(completion.body(), 200, completion.statusCode());
            new WebDriverWait(browser, Duration.ofSeconds(60)).ignoring(StaleElementReferenceException.class)
                    .until(page -> page.findElements(By.cssSelector("#tokens span.token")).size() >= 1
                            && page.findElement(By.id("generated")).getText().equals("12"));
            assertEquals("0", browser.findElement(By.cssSelector("#tokens span.token")).getAttribute("data-index"));
            // the run's chart, the one run --plot draws, shown once the run ended
            new WebDriverWait(browser, Duration.ofSeconds(30)).until(page -> (Boolean) ((org.openqa.selenium.JavascriptExecutor)
                    page).executeScript("const c = document.getElementById('run-chart');"
                            + " return !c.hidden && c.complete && c.naturalWidth > 0;"));
            String chart = get(base + "/spanker/run.svg");
            assertTrue(chart, chart.contains("<svg") && chart.contains("measured per token")
                    && chart.contains("predicted per token"));
            ((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
                    "document.getElementById('plan').scrollIntoView()");
            Path runShot = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
            Files.copy(runShot, Path.of("target", "web-view-run.png"), StandardCopyOption.REPLACE_EXISTING);
            ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("window.scrollTo(0, 0)");

            setLinkStates(mockConfig, "0-1=DOWN");
            new WebDriverWait(browser, Duration.ofSeconds(60)).ignoring(StaleElementReferenceException.class)
                    .until(page -> DOWN.equals(link(page, "0-1").getAttribute("stroke")));
            assertEquals("DOWN", attribute(browser, "0-1", "data-state"));
            assertEquals("the other direction stays up", UP, attribute(browser, "1-0", "stroke"));
            assertEquals(4, browser.findElements(By.cssSelector("#topology g.card")).size());
            Path screenshot = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
            Files.copy(screenshot, Path.of("target", "web-view.png"), StandardCopyOption.REPLACE_EXISTING);

            String metrics = get(base + "/metrics");
            assertTrue(metrics, metrics.contains("spanker_cards 4.0"));
            assertTrue(metrics, metrics.contains("spanker_link_up{local=\"0\",remote=\"1\",state=\"DOWN\"} 0.0"));
            assertTrue(metrics, metrics.contains("spanker_link_up{local=\"1\",remote=\"0\",state=\"UP\"} 1.0"));
            assertTrue(metrics, metrics.contains("spanker_tokens_total ") && !metrics.contains("spanker_tokens_total 0.0"));
            assertTrue(metrics, metrics.contains("spanker_serve_queue_depth 0.0"));

            setLinkStates(mockConfig, "");
            watchARunOnEmulatedCards(browser, base, home);
        } finally {
            browser.quit();
            setLinkStates(mockConfig, "");
        }
    }

    /**
     * Two emulated cards, each its own process (started as {@code spanker fleet start} starts them, from the
     * distribution's lib/emulator), take the mock's place the way an operator does it: spanker-device-sails
     * installed and pointed at the fleet by its configuration file. The served model follows the cards by itself
     * (planned and placed again), the page redraws two Sails cards with the plan over them, and a completion's
     * tokens arrive from the emulated cards.
     */
    private static void watchARunOnEmulatedCards(WebDriver browser, String base, Path home) throws Exception {
        Path fleetDirectory = Path.of("target", "web-fleet").toAbsolutePath();
        System.setProperty("spanker.fleet.dir", fleetDirectory.toString());
        System.setProperty("spanker.emulator.lib", home.resolve("lib/emulator").toString());
        FleetCommand fleet = new FleetCommand();
        CommandResult started = fleet.execute(List.of("start", "--cards", "2", "--unshaped", "--json"));
        assertEquals(started.errorMessage(), CommandStatus.OK, started.status());
        try {
            writeAtomically(home.resolve("etc/org.popsolutions.spanker.device.sails.cfg"),
                    "fleetDirectory = " + fleetDirectory + "\nenabled = true\n");
            installFeature(home, "spanker-device-sails");
            awaitHttp(base + "/spanker/state", "\"name\":\"sails-emu-1\"");
            org.openqa.selenium.support.ui.Wait<WebDriver> wait = new WebDriverWait(browser, Duration.ofSeconds(60))
                    .ignoring(StaleElementReferenceException.class);
            wait.until(page -> page.findElements(By.cssSelector("#topology g.card")).size() == 2
                    && page.findElements(By.cssSelector("#plan tr.plan-card")).size() == 2);
            wait.until(page -> holdMemory(page, 2));
            assertEquals(List.of("sails", "sails"), browser.findElements(By.cssSelector("#cards tbody tr")).stream()
                    .map(row -> row.findElements(By.tagName("td")).get(2).getText()).toList());
            HttpResponse<String> completion = post(base + "/v1/completions",
                    "{\"prompt\":\"The sails\",\"max_tokens\":6,\"temperature\":0}");
            assertEquals(completion.body(), 200, completion.statusCode());
            wait.until(page -> page.findElement(By.id("generated")).getText().equals("6")
                    && page.findElements(By.cssSelector("#tokens span.token")).size() >= 1);
            ((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
                    "document.getElementById('plan').scrollIntoView()");
            Path shot = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
            Files.copy(shot, Path.of("target", "web-view-sails.png"), StandardCopyOption.REPLACE_EXISTING);
        } finally {
            CommandResult stopped = fleet.execute(List.of("stop", "--json"));
            assertEquals(stopped.errorMessage(), CommandStatus.OK, stopped.status());
        }
    }

    /**
     * Whether the cards table has {@code cards} rows and each card's "in use" column shows its buffers holding some
     * bytes (the served model's weights and KV cache), as the card itself answers.
     */
    private static boolean holdMemory(WebDriver page, int cards) {
        List<WebElement> rows = page.findElements(By.cssSelector("#cards tbody tr"));
        if (rows.size() != cards) {
            return false;
        }
        for (WebElement row : rows) {
            String inUse = row.findElements(By.tagName("td")).get(4).getText();
            if (inUse.equals("–") || inUse.equals("0 B")) {
                return false;
            }
        }
        return true;
    }

    /**
     * Serves the golden tiny model through the configuration file an operator would write
     * (etc/org.popsolutions.spanker.serve.cfg); spanker-web carries the endpoint on Karaf's HTTP port.
     */
    private static void serveGoldenModel(Path karafHome) throws IOException {
        Path model = Path.of(SpankerContainer.requiredProperty("spanker.golden"), "model", "tiny-llama-q8_0.gguf")
                .toAbsolutePath().normalize();
        writeAtomically(karafHome.resolve("etc/org.popsolutions.spanker.serve.cfg"),
                "model = " + model + "\nname = tiny\nqueue = 2\n");
    }

    private static void writeAtomically(Path file, String content) throws IOException {
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(temporary, content);
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The OpenAI endpoint on the whiteboard, curled as a client would: health, models, a stream, a bad request. */
    private static void checkOpenAiEndpoint(String base) throws Exception {
        awaitHttp(base + "/health", "\"status\":\"ok\"");
        assertTrue(get(base + "/v1/models").contains("\"id\":\"tiny\""));
        HttpResponse<String> stream = post(base + "/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":"
                + "[{\"role\":\"user\",\"content\":\"Hello\"}],\"max_tokens\":5,\"temperature\":0,\"stream\":true}");
        assertEquals(stream.body(), 200, stream.statusCode());
        assertTrue(stream.headers().firstValue("Content-Type").orElse(""),
                stream.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        assertTrue(stream.body(), stream.body().contains("\"object\":\"chat.completion.chunk\""));
        assertTrue(stream.body(), stream.body().strip().endsWith("data: [DONE]"));
        HttpResponse<String> bad = post(base + "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":-1}");
        assertEquals(bad.body(), 400, bad.statusCode());
        assertTrue(bad.body(), bad.body().contains("\"param\":\"max_tokens\""));
    }

    private static HttpResponse<String> post(String url, String body) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A link's attribute, read again when the page redraws the drawing between finding the element and reading it
     * (every server-sent event redraws the topology).
     */
    private static String attribute(WebDriver page, String fromTo, String name) {
        return new WebDriverWait(page, Duration.ofSeconds(10)).ignoring(StaleElementReferenceException.class)
                .until(p -> link(p, fromTo).getAttribute(name));
    }

    private static WebElement link(WebDriver page, String fromTo) {
        return page.findElement(By.cssSelector("#topology line.link[data-link='" + fromTo + "']"));
    }

    /** Edits the running Karaf's etc file as an operator would; Karaf's file watcher applies it. */
    private static void setLinkStates(Path mockConfig, String states) throws IOException {
        List<String> lines = Files.readAllLines(mockConfig).stream()
                .map(line -> line.strip().startsWith("linkStates") ? "linkStates = " + states : line).toList();
        Path temporary = mockConfig.resolveSibling(mockConfig.getFileName() + ".tmp");
        Files.write(temporary, lines);
        Files.move(temporary, mockConfig, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The unpacked Karaf this test's container runs in: the one configured with this test's HTTP port. */
    private static Path karafHome() throws IOException {
        try (Stream<Path> homes = Files.list(UNPACKED)) {
            for (Path home : homes.toList()) {
                Path web = home.resolve("etc/org.ops4j.pax.web.cfg");
                if (Files.isRegularFile(web) && Files.readString(web).contains(HTTP_PORT)) {
                    return home;
                }
            }
        }
        throw new IllegalStateException("no Karaf under " + UNPACKED + " listens on port " + HTTP_PORT);
    }

    private static void awaitHttp(String url, String expected) throws Exception {
        long deadline = System.currentTimeMillis() + 300_000;
        String last = "nothing yet";
        while (System.currentTimeMillis() < deadline) {
            try {
                last = get(url);
                if (last.contains(expected)) {
                    return;
                }
            } catch (IOException notYet) {
                last = notYet.toString();
            }
            Thread.sleep(500);
        }
        fail(url + " did not show " + expected + " within 300 s; last: " + last);
    }

    private static String get(String url) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException(url + " answered " + response.statusCode());
        }
        return response.body();
    }
}
