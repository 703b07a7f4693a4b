package io.actortls.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Debian's Chromium, headless, driven by Debian's chromedriver through the W3C WebDriver HTTP API (java.net.http and
 * Jackson; no Selenium, no downloaded browser). One browser session per instance; {@link #close} ends it and every
 * process it started.
 */
public final class HeadlessChromium implements AutoCloseable {
    private static final String CHROMIUM = "/usr/bin/chromium";
    private static final String CHROMEDRIVER = "/usr/bin/chromedriver";
    /** The W3C name of an element reference in answers and arguments. */
    private static final String ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process driver;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String session;
    private final String base;

    /** Starts chromedriver on a free port and a browser session with an empty profile in {@code profile}. */
    public HeadlessChromium(Path profile, int width, int height) {
        if (!Files.isExecutable(Path.of(CHROMIUM)) || !Files.isExecutable(Path.of(CHROMEDRIVER)))
            throw new AssertionError("needs Debian's chromium and chromium-driver (.ci/run installs them)");
        int port = Tools.freePort();
        base = "http://127.0.0.1:" + port;
        try {
            driver = new ProcessBuilder(CHROMEDRIVER, "--port=" + port).redirectErrorStream(true)
                    .redirectOutput(profile.resolveSibling(profile.getFileName() + "-chromedriver.log").toFile()).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + CHROMEDRIVER, e);
        }
        try {
            Tools.awaitListening(port, Duration.ofSeconds(20));
            // The background-networking flags: this machine's closed network refuses what Chromium would fetch.
            List<String> args = List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=" + width + "," + height);
            var capabilities = Map.of("capabilities", Map.of("alwaysMatch", Map.of("browserName", "chrome",
                    "unhandledPromptBehavior", "ignore", "goog:chromeOptions", Map.of("binary", CHROMIUM, "args", args))));
            session = call("POST", "/session", capabilities).path("sessionId").asText();
        } catch (RuntimeException | Error e) {
            stopDriver();
            throw e;
        }
    }

    public void open(String url) {
        call("POST", path("/url"), Map.of("url", url));
    }

    /** Runs {@code script} (a function body: {@code return ...}) in the page; returns its JSON value. */
    public JsonNode script(String script, Object... args) {
        return call("POST", path("/execute/sync"), Map.of("script", script, "args", List.of(args)));
    }

    /** Types into the element {@code css} selects. */
    public void type(String css, String text) {
        call("POST", path("/element/" + element(css) + "/value"), Map.of("text", text));
    }

    /**
     * Clicks the element {@code css} selects. The page redraws its tables every poll, so an element found may be
     * replaced before the click reaches it ("stale element"): then it is found again, a few times at most.
     */
    public void click(String css) {
        for (int attempt = 1; ; attempt++) {
            try {
                call("POST", path("/element/" + element(css) + "/click"), Map.of());
                return;
            } catch (AssertionError e) {
                if (attempt == 5 || e.getMessage() == null || !e.getMessage().contains("stale element")) throw e;
            }
        }
    }

    /** Waits for an alert, confirm or prompt, accepts it and returns its text. */
    public String acceptDialog(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode text = tryCall("GET", path("/alert/text"), null);
            if (text != null) {
                call("POST", path("/alert/accept"), Map.of());
                return text.asText();
            }
            if (System.nanoTime() > deadline) throw new AssertionError("no dialog within " + timeout);
            sleep(100);
        }
    }

    /** Waits for a prompt, answers it with {@code text} and accepts it; returns its question. */
    public String answerPrompt(String text, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode question = tryCall("GET", path("/alert/text"), null);
            if (question != null) {
                call("POST", path("/alert/text"), Map.of("text", text));
                call("POST", path("/alert/accept"), Map.of());
                return question.asText();
            }
            if (System.nanoTime() > deadline) throw new AssertionError("no prompt within " + timeout);
            sleep(100);
        }
    }

    /** Waits until {@code script}'s value passes {@code test}; returns that value. */
    public JsonNode await(String script, Predicate<JsonNode> test, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = script(script);
            if (test.test(last)) return last;
            sleep(200);
        }
        throw new AssertionError("the page did not show " + what + " within " + timeout + "; last: " + last);
    }

    public void screenshot(Path png) throws IOException {
        Files.createDirectories(png.toAbsolutePath().getParent());
        Files.write(png, Base64.getDecoder().decode(call("GET", path("/screenshot"), null).asText()));
    }

    public void resize(int width, int height) {
        call("POST", path("/window/rect"), Map.of("width", width, "height", height));
    }

    @Override
    public void close() {
        try {
            tryCall("DELETE", "/session/" + session, null);
        } finally {
            stopDriver();
        }
    }

    private void stopDriver() {
        List<ProcessHandle> browser = driver.toHandle().descendants().toList();
        driver.destroy();
        try {
            if (!driver.waitFor(10, TimeUnit.SECONDS)) driver.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (ProcessHandle p : browser) p.destroyForcibly();
    }

    private String element(String css) {
        JsonNode found = call("POST", path("/element"), Map.of("using", "css selector", "value", css));
        return found.path(ELEMENT).asText();
    }

    private String path(String command) {
        return "/session/" + session + command;
    }

    private JsonNode call(String method, String path, Object body) {
        JsonNode answer = send(method, path, body);
        JsonNode value = answer.path("value");
        if (value.isObject() && value.has("error"))
            throw new AssertionError("WebDriver " + method + " " + path + ": " + value.path("error").asText() + ": "
                    + value.path("message").asText());
        return value;
    }

    /** The value, or null for a WebDriver error (e.g. no alert open). */
    private JsonNode tryCall(String method, String path, Object body) {
        JsonNode value = send(method, path, body).path("value");
        return value.isObject() && value.has("error") ? null : value;
    }

    private JsonNode send(String method, String path, Object body) {
        try {
            var request = HttpRequest.newBuilder(URI.create(base + path)).timeout(CALL_TIMEOUT)
                    .header("Content-Type", "application/json")
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build();
            String text = http.send(request, HttpResponse.BodyHandlers.ofString()).body();
            return text.isBlank() ? JSON.createObjectNode() : JSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("WebDriver " + method + " " + path + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
