package io.actortls.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.SClient;
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
 * ALPN per virtual host, in the server's order of preference: the client's order does not matter, a client offering
 * nothing in common continues without ALPN, and a vhost with an empty list never selects a protocol.
 */
class NegotiatesAlpnTest {
    @TempDir
    static Path dir;

    static BackendProcess backend;
    static NodeProcess node;
    static int port;

    @BeforeAll
    static void startNode() {
        TestPki pki = new TestPki(dir);
        port = Tools.freePort();
        backend = BackendProcess.start();
        node = NodeProcess.startReady(dir, new Hocon(port)
                .vhost("web", pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost"),
                        List.of("localhost"), List.of("h2", "http/1.1"), backend.address())
                .vhost("plain", pki.issue("plain", TestPki.KeyType.EC_P256, "plain.test"),
                        List.of("plain.test"), List.of(), backend.address())
                .defaultVhost("web")
                .render());
    }

    @AfterAll
    static void stopNode() {
        if (node != null) node.close();
        if (backend != null) backend.close();
    }

    @Test
    void bothOfferedSelectsH2() {
        assertAlpn("localhost", "h2,http/1.1", "h2");
    }

    @Test
    void serverPreferenceWinsOverClientOrder() {
        assertAlpn("localhost", "http/1.1,h2", "h2");
    }

    @Test
    void onlyHttp11OfferedSelectsHttp11() {
        assertAlpn("localhost", "http/1.1", "http/1.1");
    }

    @Test
    void nothingInCommonContinuesWithoutAlpn() {
        assertAlpn("localhost", "foo", null);
    }

    @Test
    void vhostWithoutAlpnSelectsNothing() {
        assertAlpn("plain.test", "h2,http/1.1", null);
    }

    private void assertAlpn(String serverName, String offered, String expected) {
        int before = node.closes().size();
        SClient.Result result = SClient.handshake(port, "-servername", serverName, "-alpn", offered);
        assertEquals(0, result.run().exitCode(), result.text());
        assertTrue(result.established(), result.text());
        if (expected == null) {
            assertNull(result.alpn(), result.text());
            assertTrue(result.text().contains("No ALPN negotiated"), result.text());
        } else {
            assertEquals(expected, result.alpn(), result.text());
        }
        JsonNode close = node.awaitCloses(before + 1, Duration.ofSeconds(10)).get(before);
        assertEquals("client-closed", close.path("reason").asText(), close.toString());
        if (expected == null) assertTrue(close.path("alpn").isNull(), close.toString());
        else assertEquals(expected, close.path("alpn").asText(), close.toString());
    }
}
