package io.actortls.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Curl;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A vhost whose only backend is down answers with a clean TLS close (close_notify, no HTTP response) instead of
 * leaving the client hanging; a vhost with a live backend among dead ones fails over to it; other vhosts are not
 * affected.
 */
class ClosesCleanlyWhenBackendIsDownTest {
    /** curl's "Empty reply from server". */
    private static final int CURL_EMPTY_REPLY = 52;
    private static final int FAILOVER_REQUESTS = 8;

    @TempDir
    static Path dir;

    static TestPki pki;
    static BackendProcess backend;
    static NodeProcess node;
    static int port;

    @BeforeAll
    static void startNode() {
        pki = new TestPki(dir);
        port = Tools.freePort();
        backend = BackendProcess.start();
        String[] nothingListens = {dead(), dead(), dead()};
        node = NodeProcess.startReady(dir, new Hocon(port)
                .vhost("up", pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost"),
                        List.of("localhost"), List.of(), backend.address())
                .vhost("down", pki.issue("down", TestPki.KeyType.EC_P256, "down.test"),
                        List.of("down.test"), List.of(), nothingListens[0])
                // The node starts at a random entry of the list: with three dead backends out of four, nearly every
                // one of FAILOVER_REQUESTS requests has to fail over (all starting on the live one: 4^-8).
                .vhost("failover", pki.issue("failover", TestPki.KeyType.EC_P256, "failover.test"),
                        List.of("failover.test"), List.of(), nothingListens[0], nothingListens[1], backend.address(),
                        nothingListens[2])
                .defaultVhost("up")
                .render());
    }

    @AfterAll
    static void stopNode() {
        if (node != null) node.close();
        if (backend != null) backend.close();
    }

    @Test
    void backendDownEndsInCloseNotifyNotAHang() {
        long start = System.nanoTime();
        Curl.Response response = Curl.get(pki.caCertificate(), "down.test", port, "/1000", "-v", "--max-time", "20");
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertEquals(CURL_EMPTY_REPLY, response.exitCode(), response.describe());
        assertEquals(0, response.status(), "no HTTP response: " + response.describe());
        assertTrue(response.stderr().contains("(IN), TLS alert, close notify"), "a clean TLS close: " + response.describe());
        assertTrue(took.compareTo(Duration.ofSeconds(10)) < 0, "took " + took.toMillis() + " ms");

        JsonNode close = node.awaitClose(c -> c.path("vhost").asText().equals("down"), Duration.ofSeconds(10), "vhost down");
        assertEquals("backend-unavailable", close.path("reason").asText(), close.toString());
        assertEquals("TLSv1.3", close.path("protocol").asText(), "the handshake had completed: " + close);

        assertServed("localhost");
    }

    @Test
    void liveBackendAmongDeadOnesIsUsed() {
        for (int i = 0; i < FAILOVER_REQUESTS; i++) assertServed("failover.test");
        // Only this vhost's records: another test's last close may be logged after this one starts.
        List<JsonNode> closes = node.awaitCloses(c -> c.path("vhost").asText().equals("failover"), FAILOVER_REQUESTS,
                Duration.ofSeconds(10));
        assertEquals(FAILOVER_REQUESTS, closes.size(), "close records of vhost failover: " + closes);
        for (JsonNode close : closes) {
            assertEquals(backend.address(), close.path("backend").asText(), close.toString());
            assertEquals("client-closed", close.path("reason").asText(), close.toString());
        }
        node.awaitLog(line -> line.contains("of pool failover refused a connection"), Duration.ofSeconds(5),
                "a logged failover from a dead backend");
        assertServed("localhost");
    }

    private static void assertServed(String host) {
        Curl.Response response = Curl.get(pki.caCertificate(), host, port, "/1000");
        assertEquals(0, response.exitCode(), response.describe());
        assertEquals(200, response.status(), response.describe());
        assertEquals(1000, response.body().length, response.describe());
    }

    /** A loopback port nothing listens on. */
    private static String dead() {
        return "127.0.0.1:" + Tools.freePort();
    }
}
