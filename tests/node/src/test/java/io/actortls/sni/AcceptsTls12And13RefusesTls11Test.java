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
 * TLS 1.3 and 1.2 are served by default; TLS 1.1 and 1.0 end in a protocol_version alert and count as
 * protocol errors; min-version = "TLSv1.3" refuses TLS 1.2 the same way.
 */
class AcceptsTls12And13RefusesTls11Test {
    /** TLS alert 70, RFC 8446 section 6.2. */
    private static final int PROTOCOL_VERSION = 70;
    /** Lets s_client itself offer TLS 1.0/1.1 (Debian's default security level forbids them on the client side). */
    private static final String LEGACY_CIPHERS = "DEFAULT@SECLEVEL=0";

    @TempDir
    Path dir;

    @Test
    void defaultsServeTls13And12AndRefuseOlder() {
        int port = Tools.freePort();
        try (BackendProcess backend = BackendProcess.start();
             NodeProcess node = NodeProcess.startReady(dir, config(port, backend, null))) {
            assertServed(node, port, "-tls1_3", "TLSv1.3");
            assertServed(node, port, "-tls1_2", "TLSv1.2");
            assertRefused(node, port, "-tls1_1", "-cipher", LEGACY_CIPHERS);
            assertRefused(node, port, "-tls1", "-cipher", LEGACY_CIPHERS);
        }
    }

    @Test
    void minVersionTls13RefusesTls12() {
        int port = Tools.freePort();
        try (BackendProcess backend = BackendProcess.start();
             NodeProcess node = NodeProcess.startReady(dir, config(port, backend, "TLSv1.3"))) {
            assertRefused(node, port, "-tls1_2");
            assertServed(node, port, "-tls1_3", "TLSv1.3");
        }
    }

    private String config(int port, BackendProcess backend, String minVersion) {
        TestPki pki = new TestPki(dir);
        Hocon hocon = new Hocon(port).vhost("localhost", pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost"),
                List.of("localhost"), List.of(), backend.address());
        if (minVersion != null) hocon.with("tls.min-version = \"" + minVersion + "\"");
        return hocon.render();
    }

    private static void assertServed(NodeProcess node, int port, String versionOption, String protocol) {
        int before = node.closes().size();
        SClient.Result result = SClient.handshake(port, "-servername", "localhost", versionOption);
        assertEquals(0, result.run().exitCode(), result.text());
        assertEquals(protocol, result.protocol(), result.text());
        JsonNode close = node.awaitCloses(before + 1, Duration.ofSeconds(10)).get(before);
        assertEquals("client-closed", close.path("reason").asText(), close.toString());
        assertEquals(protocol, close.path("protocol").asText(), close.toString());
    }

    private static void assertRefused(NodeProcess node, int port, String... versionOptions) {
        int before = node.closes().size();
        List<String> options = new java.util.ArrayList<>(List.of("-servername", "localhost"));
        options.addAll(List.of(versionOptions));
        SClient.Result result = SClient.handshake(port, options.toArray(String[]::new));
        String what = String.join(" ", versionOptions) + ": " + result.text();
        assertNotEquals(0, result.run().exitCode(), what);
        assertFalse(result.established(), what);
        assertEquals(PROTOCOL_VERSION, result.alertReceived(), what);
        assertTrue(result.text().contains("alert protocol version"), what);
        JsonNode close = node.awaitCloses(before + 1, Duration.ofSeconds(10)).get(before);
        assertEquals("protocol-error", close.path("reason").asText(), close.toString());
        assertTrue(close.path("protocol").isNull(), close.toString());
    }
}
