package io.actortls.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A ClientHello naming no configured vhost: with unknown-sni = "default" it is served by default-vhost, like a
 * ClientHello without SNI; with unknown-sni = "reject" the handshake ends in an unrecognized_name alert.
 * The default vhost here is deliberately not the first one configured.
 */
class UnknownSniFallsBackToDefaultOrIsRejectedTest {
    /** TLS alert 112, RFC 6066 section 3. */
    private static final int UNRECOGNIZED_NAME = 112;

    @TempDir
    Path dir;

    @Test
    void unknownNameAndNoNameGetTheDefaultVhost() {
        int port = Tools.freePort();
        try (BackendProcess backend = BackendProcess.start();
             NodeProcess node = NodeProcess.startReady(dir, config(port, backend, "default"))) {

            SClient.Result unknown = SClient.handshake(port, "-servername", "unknown.test");
            assertTrue(unknown.established(), unknown.text());
            assertEquals("CN = rsa.test", unknown.subject(), unknown.text());
            JsonNode unknownClose = node.awaitCloses(1, Duration.ofSeconds(10)).get(0);
            assertEquals("fallback", unknownClose.path("vhost").asText(), unknownClose.toString());
            assertEquals("unknown.test", unknownClose.path("sni").asText(), unknownClose.toString());

            SClient.Result none = SClient.handshake(port, "-noservername");
            assertTrue(none.established(), none.text());
            assertEquals("CN = rsa.test", none.subject(), none.text());
            JsonNode noneClose = node.awaitCloses(2, Duration.ofSeconds(10)).get(1);
            assertEquals("fallback", noneClose.path("vhost").asText(), noneClose.toString());
            assertTrue(noneClose.path("sni").isNull(), noneClose.toString());

            assertEquals(List.of("client-closed", "client-closed"), reasons(node));
        }
    }

    @Test
    void rejectEndsTheHandshakeWithUnrecognizedName() {
        int port = Tools.freePort();
        try (BackendProcess backend = BackendProcess.start();
             NodeProcess node = NodeProcess.startReady(dir, config(port, backend, "reject"))) {

            SClient.Result unknown = SClient.handshake(port, "-servername", "unknown.test");
            assertFalse(unknown.established(), unknown.text());
            assertNotEquals(0, unknown.run().exitCode(), unknown.text());
            assertEquals(UNRECOGNIZED_NAME, unknown.alertReceived(), unknown.text());
            assertTrue(unknown.text().contains("unrecognized name"), unknown.text());
            JsonNode close = node.awaitCloses(1, Duration.ofSeconds(10)).get(0);
            assertEquals("protocol-error", close.path("reason").asText(), close.toString());
            assertTrue(close.path("protocol").isNull(), close.toString());

            // Listed names, and clients that send no name at all, are still served.
            SClient.Result known = SClient.handshake(port, "-servername", "localhost");
            assertEquals("CN = localhost", known.subject(), known.text());
            SClient.Result none = SClient.handshake(port, "-noservername");
            assertEquals("CN = rsa.test", none.subject(), none.text());
            assertEquals(List.of("protocol-error", "client-closed", "client-closed"),
                    reasons(node.awaitCloses(3, Duration.ofSeconds(10))));
        }
    }

    private String config(int port, BackendProcess backend, String unknownSni) {
        TestPki pki = new TestPki(dir);
        TestPki.Cert ec = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        TestPki.Cert rsa = pki.issue("rsa", TestPki.KeyType.RSA_2048, "rsa.test");
        return new Hocon(port)
                .vhost("first", ec, List.of("localhost"), List.of(), backend.address())
                .vhost("fallback", rsa, List.of("rsa.test"), List.of(), backend.address())
                .defaultVhost("fallback")
                .with("unknown-sni = \"" + unknownSni + "\"")
                .render();
    }

    private static List<String> reasons(NodeProcess node) {
        return reasons(node.closes());
    }

    private static List<String> reasons(List<JsonNode> closes) {
        return closes.stream().map(c -> c.path("reason").asText()).toList();
    }
}
