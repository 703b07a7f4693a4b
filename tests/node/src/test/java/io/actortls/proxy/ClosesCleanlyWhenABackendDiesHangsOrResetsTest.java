package io.actortls.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.Cli;
import io.actortls.testkit.Curl;
import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.FaultyBackend;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.HoldingClient;
import io.actortls.testkit.ManagementApi;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A backend that dies (SIGKILL) in the middle of a response, one that accepts but never answers, and one that
 * resets: each time the client gets a clean TLS close (close_notify, then FIN) instead of a hang or a reset, the
 * close is counted under its own reason, health checks take the server down (seen through the CLI), and the node
 * is left holding nothing: no open connection (connections API, listener count, pool counts) and no OpenSSL
 * connection object (actortls_tls_connections_live). One node, a pool per fault, each with one server.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClosesCleanlyWhenABackendDiesHangsOrResetsTest {
    /** curl: "transfer closed with outstanding read data remaining" (a chunked body cut short). */
    private static final int CURL_PARTIAL = 18;
    /** curl: "Empty reply from server". */
    private static final int CURL_EMPTY_REPLY = 52;
    private static final String CLOSE_NOTIFY = "(IN), TLS alert, close notify";
    private static final Duration BACKEND_IDLE = Duration.ofSeconds(2);
    private static final String HEALTH = "health { check = \"http\", http-path = \"/health\", interval = 500ms, "
            + "timeout = 300ms, rise = 2, fall = 2 }";

    private Path dir;
    private TestPki pki;
    private DemoBackendProcess dying;
    private FaultyBackend hanging;
    private FaultyBackend resetting;
    private NodeProcess node;
    private int port;
    private String management;
    private ManagementApi api;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("backend-faults");
        pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("faults", TestPki.KeyType.EC_P256, "dies.test", "hangs.test", "resets.test");
        dying = DemoBackendProcess.start("dying");
        hanging = FaultyBackend.start(FaultyBackend.Fault.HANG, "/health");
        resetting = FaultyBackend.start(FaultyBackend.Fault.RESET, "/health");
        port = Tools.freePort();
        Hocon hocon = new Hocon(port);
        management = hocon.management();
        api = new ManagementApi(management);
        node = NodeProcess.startReady(dir, hocon
                .pooledVhost("dies", cert, List.of("dies.test"), "dies")
                .pooledVhost("hangs", cert, List.of("hangs.test"), "hangs")
                .pooledVhost("resets", cert, List.of("resets.test"), "resets")
                .defaultVhost("dies")
                .pool("dies", List.of(dying.server(1)), HEALTH.replace("/health", "/"))
                .pool("hangs", List.of(hanging.server("hanging")), HEALTH,
                        "timeouts { backend-idle = " + BACKEND_IDLE.toMillis() + "ms }")
                .pool("resets", List.of(resetting.server("resetting")), HEALTH)
                .render());
        for (String pool : List.of("dies", "hangs", "resets")) awaitHealth(pool, "up", Duration.ofSeconds(20));
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
        if (dying != null) dying.close();
        if (hanging != null) hanging.close();
        if (resetting != null) resetting.close();
    }

    @Test
    void aBackendKilledMidResponseEndsInCloseNotify() throws Exception {
        double before = closed("backend-closed");
        try (HoldingClient client = HoldingClient.open(pki.caCertificate(), "dies.test", port, 600, "-v")) {
            assertEquals("dying", client.awaitServer(Duration.ofSeconds(15)));
            // The counts that must come back to 0 below do count a connection while it is open.
            Map<String, Double> open = api.metrics();
            assertEquals(1.0, open.get("actortls_tls_connections_live"), open.toString());
            assertEquals(1.0, open.get("actortls_connections_open"), open.toString());
            dying.kill();
            int exit = client.awaitEnd(Duration.ofSeconds(10));
            String stderr = client.stderrText();
            System.out.println("backend killed: curl exit " + exit);
            assertEquals(CURL_PARTIAL, exit, "the response was cut short, cleanly: " + stderr);
            assertTrue(stderr.contains(CLOSE_NOTIFY), "a clean TLS close: " + stderr);
        }
        assertAftermath("dies", "dying", "backend-closed", before);
    }

    @Test
    void aBackendThatAcceptsButNeverAnswersIsClosedAtTheBackendIdleTimeout() throws Exception {
        double before = closed("idle-backend");
        Duration took = requestEndingInCloseNotify("hangs.test");
        assertTrue(took.compareTo(BACKEND_IDLE) >= 0 && took.compareTo(BACKEND_IDLE.plusSeconds(5)) < 0,
                "closed at the backend-idle timeout (" + BACKEND_IDLE.toMillis() + " ms), not after " + took.toMillis() + " ms");
        assertTrue(hanging.failedConnections() >= 1, "the request reached the hanging backend");
        assertAftermath("hangs", "hanging", "idle-backend", before);
    }

    @Test
    void aBackendThatResetsEndsInCloseNotify() throws Exception {
        double before = closed("backend-reset");
        requestEndingInCloseNotify("resets.test");
        assertTrue(resetting.failedConnections() >= 1, "the request reached the resetting backend");
        assertAftermath("resets", "resetting", "backend-reset", before);
    }

    /** One request whose backend fails: no HTTP response, but close_notify; returns how long it took. */
    private Duration requestEndingInCloseNotify(String host) {
        long start = System.nanoTime();
        Curl.Response response = Curl.get(pki.caCertificate(), host, port, "/", "-v", "--max-time", "30");
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        System.out.println(host + ": curl exit " + response.exitCode() + " after " + took.toMillis() + " ms");
        assertEquals(CURL_EMPTY_REPLY, response.exitCode(), response.describe());
        assertTrue(response.stderr().contains(CLOSE_NOTIFY), "a clean TLS close: " + response.describe());
        return took;
    }

    /** The close counted under its reason, the server taken down, nothing left held. */
    private void assertAftermath(String pool, String server, String reason, double closedBefore)
            throws InterruptedException {
        assertClosedWith(pool, reason, closedBefore);
        assertServerDown(pool, server);
        assertNothingHeld(pool);
    }

    /** The access log's record for the vhost and the reason's counter, one more than {@code before}. */
    private void assertClosedWith(String vhost, String reason, double before) {
        JsonNode close = node.awaitClose(c -> vhost.equals(c.path("vhost").asText()), Duration.ofSeconds(10), "vhost " + vhost);
        assertEquals(reason, close.path("reason").asText(), close.toString());
        assertEquals("TLSv1.3", close.path("protocol").asText(), "the handshake had completed: " + close);
        assertEquals(before + 1, closed(reason), "actortls_connections_closed_total{reason=\"" + reason + "\"}");
    }

    private double closed(String reason) {
        return api.metrics()
                .getOrDefault("actortls_connections_closed_total{reason=\"" + reason + "\"}", 0.0);
    }

    /** Health checks take the server down; the CLI shows it. */
    private void assertServerDown(String pool, String server) throws InterruptedException {
        awaitHealth(pool, "down", Duration.ofSeconds(10));
        Cli.Result show = Cli.against(management, Hocon.MANAGEMENT_TOKEN, "pools", "show", pool, "--json");
        assertEquals(0, show.exitCode(), show.toString());
        JsonNode detail = show.json().path("servers").get(0);
        assertEquals(server, detail.path("name").asText(), show.out());
        assertEquals("down", detail.path("health").asText(), show.out());
        System.out.println(pool + ": " + server + " down (" + detail.path("healthReason").asText() + ")");
    }

    private void awaitHealth(String pool, String health, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            ManagementApi.Answer answer = api.answer("/pools/" + pool);
            last = answer.body();
            if (answer.status() == 200 && health.equals(answer.json().path("servers").get(0).path("health").asText())) return;
            Thread.sleep(100);
        }
        throw new AssertionError("the server of pool " + pool + " was not " + health + " within " + timeout + ": " + last);
    }

    /**
     * No connection left: none open by the connections API or the listener's count, none counted by the pool,
     * and no OpenSSL connection object alive in the node's process.
     */
    private void assertNothingHeld(String pool) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        Map<String, Double> metrics = Map.of();
        while (System.nanoTime() < deadline) {
            metrics = api.metrics();
            if (metrics.get("actortls_tls_connections_live") == 0.0 && metrics.get("actortls_connections_open") == 0.0) break;
            Thread.sleep(100);
        }
        assertEquals(0.0, metrics.get("actortls_tls_connections_live"), "OpenSSL connections alive: " + metrics);
        assertEquals(0.0, metrics.get("actortls_connections_open"), "connections open: " + metrics);

        JsonNode top = api.answer("/connections/top?n=10").json();
        assertTrue(top.path("connections").isEmpty(), top.toString());
        for (JsonNode n : top.path("nodes")) assertEquals(0, n.path("open").asInt(), top.toString());
        JsonNode reasons = api.answer("/connections/reasons").json();
        assertEquals(0, reasons.path("total").path("open").asInt(), "the listeners' open connections: " + reasons);
        JsonNode view = api.answer("/pools/" + pool).json();
        for (JsonNode server : view.path("servers"))
            assertEquals(0, server.path("connections").asInt(), "pool counts: " + view);
    }
}
