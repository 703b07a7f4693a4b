package io.actortls.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Cli;
import io.actortls.testkit.Curl;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code actortls log peek} and {@code log level} against a 3-node cluster: nodes 1 and 2 log JSON, node 3 text.
 * A level set through node 1 holds on every node, and the DEBUG lines it lets through show in the peek.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PeeksRecentLogLinesAndChangesLevelsClusterWideTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    private final List<String> management = new ArrayList<>();
    private final List<BackendProcess> backends = new ArrayList<>();
    private TestCluster cluster;
    private Path ca;

    @BeforeAll
    void startCluster() {
        TestPki pki = new TestPki(dir);
        ca = pki.caCertificate();
        TestPki.Cert cert = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        BackendProcess backend = BackendProcess.start();
        backends.add(backend);
        cluster = TestCluster.start(dir, 3, (i, hocon) -> {
            management.add(hocon.management());
            hocon.vhost("localhost", cert, List.of("localhost"), List.of(), backend.address())
                    // Quiet periodic lines, so that the last few lines are the test's.
                    .with("log.stats-interval = 0s").with("sessions.stats-interval = 0s").with("log.memory-lines = 200");
            if (i == 3) hocon.with("log.format = \"text\"");
            return hocon.render();
        });
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        backends.forEach(BackendProcess::close);
    }

    @Test
    void peekGivesExactlyTheLastLinesWithStructuredFieldsInJsonAndOneLineEachInText() {
        // A recent event on every node: the level of a logger no one uses, set through node 1.
        String marker = "marker." + UUID.randomUUID().toString().replace("-", "");
        Cli.Result set = cli(0, "log", "level", "--logger", marker, "WARN");
        assertEquals(0, set.exitCode(), set.toString());
        String event = "log level of " + marker + " set to WARN";

        for (int node = 0; node < 2; node++) {
            JsonNode lines = awaitPeek(node, 5, l -> l.contains(event));
            assertEquals(5, lines.size(), lines.toString());
            for (JsonNode line : lines) {
                JsonNode record = parse(line.asText());
                assertTrue(record.has("@timestamp") && record.has("level") && record.has("logger_name"), line.asText());
            }
            // The table form: the same number of lines, one per event.
            Cli.Result text = cli(node, "log", "peek", "-n", "5");
            assertEquals(0, text.exitCode(), text.toString());
            assertEquals(5, text.out().lines().count(), text.out());
        }
        JsonNode textLines = awaitPeek(2, 5, l -> l.contains(event));
        assertEquals(5, textLines.size());
        for (JsonNode line : textLines)
            assertTrue(line.asText().matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} [A-Z]+ +\\S+ - .*"), line.asText());

        // Structured arguments are fields of the JSON lines: a connection's close carries its reason and bytes.
        Curl.Response response = Curl.get(ca, "localhost", cluster.member(1).tlsPort(), "/16");
        assertEquals(200, response.status(), response.describe());
        JsonNode close = parse(lastMatching(awaitPeek(0, 20, l -> l.contains("\"actortls.connection\"")),
                "\"actortls.connection\""));
        assertTrue(close.hasNonNull("reason") && close.get("client_bytes_in").asLong() > 0, close.toString());

        Cli.Result bad = cli(0, "log", "peek", "-n", "0");
        assertEquals(2, bad.exitCode(), bad.toString()); // a usage error, judged by the CLI before any call
        assertTrue(bad.err().contains("'-n': must be at least 1"), bad.toString());
        Cli.Result unauthorized = Cli.against(management.getFirst(), "wrong-token", "log", "peek");
        assertEquals(1, unauthorized.exitCode(), unauthorized.toString());
        assertTrue(unauthorized.err().contains("401"), unauthorized.toString());
    }

    @Test
    void levelSetThroughOneNodeHoldsOnEveryNodeAndLetsDebugLinesThrough() {
        Cli.Result debug = cli(0, "log", "level", "--logger", "io.actortls", "DEBUG", "--json");
        assertEquals(0, debug.exitCode(), debug.toString());
        assertEquals(3, debug.json().get("nodes").size(), debug.out());
        for (JsonNode n : debug.json().get("nodes")) assertEquals("DEBUG", n.at("/reply/level").asText(), n.toString());
        try {
            for (int node = 0; node < 3; node++) {
                Cli.Result show = cli(node, "log", "level", "--logger", "io.actortls", "--json");
                assertEquals(0, show.exitCode(), show.toString());
                assertEquals("DEBUG", show.json().get("level").asText(), show.out());
                assertEquals("127.0.0.1:" + cluster.member(node + 1).clusterPort(), show.json().get("node").asText());
            }
            // A DEBUG line of a connection on node 2 (the handshake's kind and time) shows in node 2's peek.
            Curl.Response response = Curl.get(ca, "localhost", cluster.member(2).tlsPort(), "/16");
            assertEquals(200, response.status(), response.describe());
            JsonNode lines = awaitPeek(1, 50, l -> l.contains("handshake done"));
            JsonNode handshake = parse(lastMatching(lines, "handshake done"));
            assertEquals("DEBUG", handshake.get("level").asText());
            assertEquals("full", handshake.get("kind").asText(), handshake.toString());
        } finally {
            Cli.Result info = cli(0, "log", "level", "--logger", "io.actortls", "INFO");
            assertEquals(0, info.exitCode(), info.toString());
            assertEquals(3, info.out().lines().filter(l -> l.contains(" io.actortls ") && l.contains("INFO")).count(), info.out());
        }
        for (int node = 0; node < 3; node++) {
            Cli.Result show = cli(node, "log", "level", "--logger", "io.actortls");
            assertEquals(0, show.exitCode(), show.toString());
            assertTrue(show.out().lines().anyMatch(l -> l.contains("io.actortls") && l.contains("INFO")), show.out());
        }
        // The root's level: INFO, from the configuration.
        Cli.Result root = cli(2, "log", "level", "--json");
        assertEquals("ROOT", root.json().get("logger").asText(), root.out());
        assertEquals("INFO", root.json().get("effectiveLevel").asText(), root.out());
    }

    @Test
    void aBadLevelIsRefusedAndChangesNothing() {
        Cli.Result bad = cli(1, "log", "level", "--logger", "io.actortls.proxy", "LOUD");
        assertEquals(1, bad.exitCode(), bad.toString());
        assertTrue(bad.err().contains("\"LOUD\" is not a log level"), bad.toString());
        Cli.Result inheritRoot = cli(1, "log", "level", "INHERIT");
        assertEquals(1, inheritRoot.exitCode(), inheritRoot.toString());
        for (int node = 0; node < 3; node++) {
            Cli.Result show = cli(node, "log", "level", "--logger", "io.actortls.proxy", "--json");
            assertTrue(show.json().get("level").isNull(), show.out());
        }
        Cli.Result unauthorized = Cli.against(management.getFirst(), "wrong-token", "log", "level", "DEBUG");
        assertEquals(1, unauthorized.exitCode(), unauthorized.toString());
        assertEquals("INFO", cli(0, "log", "level", "--json").json().get("effectiveLevel").asText());
    }

    private Cli.Result cli(int node, String... args) {
        return Cli.against(management.get(node), Hocon.MANAGEMENT_TOKEN, args);
    }

    /** Peeks at the last {@code n} lines of a node until one of them passes {@code wanted} (10 s at most). */
    private JsonNode awaitPeek(int node, int n, Predicate<String> wanted) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        JsonNode lines = null;
        while (System.nanoTime() < deadline) {
            Cli.Result peek = cli(node, "log", "peek", "-n", String.valueOf(n), "--json");
            assertEquals(0, peek.exitCode(), peek.toString());
            lines = peek.json();
            assertTrue(lines.isArray(), peek.out());
            for (JsonNode line : lines) if (wanted.test(line.asText())) return lines;
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
        }
        throw new AssertionError("no such line among the last " + n + " of node " + (node + 1) + ": " + lines);
    }

    private static String lastMatching(JsonNode lines, String text) {
        String found = null;
        for (JsonNode line : lines) if (line.asText().contains(text)) found = line.asText();
        assertFalse(found == null, text + " not in " + lines);
        return found;
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new AssertionError("not a JSON line: " + line, e);
        }
    }
}
