package io.actortls.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One listener, three virtual hosts: an exact name with an EC P-256 certificate, an exact name with an RSA-2048
 * certificate, and a one-label wildcard. Each SNI name gets its own vhost's certificate, which verifies against the
 * test CA for that name; names the wildcard must not cover get the default vhost instead.
 */
class SelectsVirtualHostBySniTest {
    @TempDir
    static Path dir;

    static TestPki pki;
    static BackendProcess backend;
    static NodeProcess node;
    static int port;

    @BeforeAll
    static void startNode() {
        pki = new TestPki(dir);
        TestPki.Cert ec = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        TestPki.Cert rsa = pki.issue("rsa", TestPki.KeyType.RSA_2048, "rsa.test");
        TestPki.Cert wild = pki.issue("wild", TestPki.KeyType.EC_P256, "*.wild.test");
        port = Tools.freePort();
        backend = BackendProcess.start();
        node = NodeProcess.startReady(dir, new Hocon(port)
                .vhost("ec", ec, List.of("localhost"), List.of(), backend.address())
                .vhost("rsa", rsa, List.of("rsa.test"), List.of(), backend.address())
                .vhost("wild", wild, List.of("*.wild.test"), List.of(), backend.address())
                .defaultVhost("ec")
                .render());
    }

    @AfterAll
    static void stopNode() {
        if (node != null) node.close();
        if (backend != null) backend.close();
    }

    @Test
    void exactNameWithEcCertificate() {
        assertServed("localhost", "ec", "CN = localhost", "ECDSA", 256);
    }

    @Test
    void exactNameWithRsaCertificate() {
        assertServed("rsa.test", "rsa", "CN = rsa.test", "RSA", 2048);
    }

    @Test
    void wildcardCoversOneLabel() {
        assertServed("a.wild.test", "wild", "CN = *.wild.test", "ECDSA", 256);
    }

    @Test
    void wildcardCoversNeitherTwoLabelsNorTheBareDomain() {
        for (String name : List.of("b.a.wild.test", "wild.test")) {
            int before = node.closes().size();
            // No -verify_return_error: the point is which certificate comes back, not that it fails to verify.
            SClient.Result result = SClient.handshake(port, "-servername", name, "-CAfile", pki.caCertificate().toString(),
                    "-verify_hostname", name);
            assertTrue(result.established(), name + ": " + result.text());
            assertEquals("CN = localhost", result.subject(), name + " must get the default vhost's certificate");
            assertNotEquals(0, result.verifyReturnCode(), name + ": the default certificate does not name it");
            JsonNode close = node.awaitCloses(before + 1, Duration.ofSeconds(10)).get(before);
            assertEquals("ec", close.path("vhost").asText(), name + ": " + close);
            assertEquals(name, close.path("sni").asText(), close.toString());
        }
    }

    private void assertServed(String serverName, String vhost, String subject, String signature, int keyBits) {
        int before = node.closes().size();
        SClient.Result result = SClient.handshake(port, "-servername", serverName,
                "-CAfile", pki.caCertificate().toString(), "-verify_return_error", "-verify_hostname", serverName);
        assertEquals(0, result.run().exitCode(), result.text());
        assertEquals(0, result.verifyReturnCode(), result.text());
        assertEquals(subject, result.subject(), result.text());
        assertTrue(result.peerSignatureType() != null && result.peerSignatureType().startsWith(signature),
                "expected a " + signature + " signature: " + result.text());
        assertEquals(keyBits, result.serverKeyBits(), result.text());

        JsonNode close = node.awaitCloses(before + 1, Duration.ofSeconds(10)).get(before);
        assertEquals(vhost, close.path("vhost").asText(), close.toString());
        assertEquals(serverName, close.path("sni").asText(), close.toString());
        assertEquals("client-closed", close.path("reason").asText(), close.toString());
    }
}
