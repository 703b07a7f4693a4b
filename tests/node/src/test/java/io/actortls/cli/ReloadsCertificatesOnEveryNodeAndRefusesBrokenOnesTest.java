package io.actortls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Cli;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code actortls certs reload} against a live 3-node cluster whose nodes share one certificate and key file
 * for vhost "localhost" (and each has its own files for vhost "other"): a reload asked of node 1 makes every
 * node serve the new certificate to new connections while connections opened before keep working; broken files
 * (garbage PEM, a key of another certificate, a missing key, or one node's own broken file) are refused by every
 * node at once, each keeping the certificate it served.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReloadsCertificatesOnEveryNodeAndRefusesBrokenOnesTest {
    @TempDir
    static Path dir;
    private TestPki pki;
    private BackendProcess backend;
    private TestCluster cluster;
    private final List<String> management = new ArrayList<>();
    private Path sharedCert;
    private Path sharedKey;

    @BeforeAll
    void startCluster() throws IOException {
        sharedCert = dir.resolve("shared.crt");
        sharedKey = dir.resolve("shared.key");
        pki = new TestPki(dir);
        install(pki.issue("v1", TestPki.KeyType.EC_P256, "localhost"), sharedCert, sharedKey);
        List<TestPki.Cert> others = new ArrayList<>();
        for (int i = 1; i <= 3; i++) others.add(pki.issue("other-" + i, TestPki.KeyType.EC_P256, "other.localhost"));
        backend = BackendProcess.start();
        cluster = TestCluster.start(dir, 3, (i, hocon) -> {
            management.add(hocon.management());
            return hocon.vhost("localhost", new TestPki.Cert(sharedCert, sharedKey), List.of("localhost"), List.of(), backend.address())
                    .vhost("other", others.get(i - 1), List.of("other.localhost"), List.of(), backend.address())
                    .defaultVhost("localhost").render();
        });
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        if (backend != null) backend.close();
    }

    @Test
    @Order(1)
    void aReloadOnOneNodeMakesEveryNodeServeTheNewCertificateAndKeepsOpenConnections() throws Exception {
        String v1 = fingerprint(sharedCert);
        for (int node = 1; node <= 3; node++) assertEquals(v1, served(node, "localhost"));
        try (SSLSocket before = openEcho(2)) {
            echo(before, "before the reload");
            install(pki.issue("v2", TestPki.KeyType.EC_P256, "localhost"), sharedCert, sharedKey);
            String v2 = fingerprint(sharedCert);
            assertNotEquals(v1, v2);

            long start = System.nanoTime();
            Cli.Result reload = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "certs", "reload", "--json");
            long reloadMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(0, reload.exitCode(), reload.toString());
            assertTrue(reload.json().get("reloaded").asBoolean(), reload.out());
            JsonNode nodes = reload.json().get("nodes");
            assertEquals(3, nodes.size(), reload.out());
            for (JsonNode n : nodes) {
                assertTrue(n.get("ok").asBoolean(), reload.out());
                assertEquals(v2, certificateOf(n, "localhost").get("sha256Fingerprint").asText(), reload.out());
            }
            start = System.nanoTime();
            for (int node = 1; node <= 3; node++) assertEquals(v2, served(node, "localhost"), "node " + node + " after the reload");
            System.out.println("certs reload (CLI JVM included) took " + reloadMillis + " ms; s_client on all 3 nodes then saw the new certificate ("
                    + (System.nanoTime() - start) / 1_000_000 + " ms for the 3 handshakes)");

            echo(before, "after the reload");
            assertEquals(v1, fingerprint(before.getSession().getPeerCertificates()[0]), "the open connection keeps its certificate");
        }
        Cli.Result show = Cli.against(management.get(2), Hocon.MANAGEMENT_TOKEN, "certs", "show");
        assertEquals(0, show.exitCode(), show.toString());
        assertEquals(6, show.out().lines().filter(l -> l.startsWith("127.0.0.1:")).count(), show.out());
        assertTrue(show.out().contains(fingerprint(sharedCert)), show.out());

        Cli.Result table = Cli.against(management.get(1), Hocon.MANAGEMENT_TOKEN, "certs", "reload");
        assertEquals(0, table.exitCode(), table.toString());
        assertTrue(table.out().contains("reloaded on 3 nodes"), table.out());
    }

    @Test
    @Order(2)
    void garbagePemIsRefusedEverywhereAndEveryNodeKeepsItsCertificate() throws Exception {
        String serving = served(1, "localhost");
        Files.writeString(sharedCert, "-----BEGIN CERTIFICATE-----\nnot a certificate at all\n-----END CERTIFICATE-----\n");
        assertRefused("vhost localhost", "certificate");
        for (int node = 1; node <= 3; node++) assertEquals(serving, served(node, "localhost"), "node " + node);
    }

    @Test
    @Order(3)
    void aKeyOfAnotherCertificateIsRefusedEverywhere() throws Exception {
        String serving = served(1, "localhost");
        TestPki.Cert v3 = pki.issue("v3", TestPki.KeyType.EC_P256, "localhost");
        Files.copy(v3.certificate(), sharedCert, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(pki.issue("stranger", TestPki.KeyType.EC_P256, "localhost").key(), sharedKey, StandardCopyOption.REPLACE_EXISTING);
        assertRefused("does not match");
        for (int node = 1; node <= 3; node++) assertEquals(serving, served(node, "localhost"), "node " + node);

        Files.delete(sharedKey);
        assertRefused("vhost localhost", sharedKey.toString());
        for (int node = 1; node <= 3; node++) assertEquals(serving, served(node, "localhost"), "node " + node);
    }

    @Test
    @Order(4)
    void oneNodesBrokenFileStopsTheReloadOnEveryNode() throws Exception {
        String serving = served(1, "localhost");
        install(pki.issue("v4", TestPki.KeyType.EC_P256, "localhost"), sharedCert, sharedKey); // valid on every node
        Path otherOfNode3 = dir.resolve("other-3.crt");
        String otherServing = served(3, "other.localhost");
        Files.writeString(otherOfNode3, "garbage\n");
        Cli.Result refused = assertRefused("127.0.0.1:" + cluster.member(3).clusterPort() + ": vhost other");
        assertFalse(refused.err().contains("127.0.0.1:" + cluster.member(1).clusterPort() + ":"),
                "only node 3 refused: " + refused.err());
        for (int node = 1; node <= 3; node++)
            assertEquals(serving, served(node, "localhost"), "node " + node + " must not apply a reload node 3 refused");
        assertEquals(otherServing, served(3, "other.localhost"));
    }

    private Cli.Result assertRefused(String... named) {
        Cli.Result json = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "certs", "reload", "--json");
        assertEquals(1, json.exitCode(), json.toString());
        Cli.Result table = Cli.against(management.get(1), Hocon.MANAGEMENT_TOKEN, "certs", "reload");
        assertEquals(1, table.exitCode(), table.toString());
        for (Cli.Result r : List.of(json, table)) {
            assertTrue(r.err().contains("certificate reload refused, every node keeps its certificates") && r.err().contains("(409)"), r.err());
            for (String name : named) assertTrue(r.err().contains(name), "should name " + name + ": " + r.err());
        }
        return json;
    }

    private static void install(TestPki.Cert cert, Path certificate, Path key) throws IOException {
        Files.copy(cert.certificate(), certificate, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(cert.key(), key, StandardCopyOption.REPLACE_EXISTING);
    }

    private static JsonNode certificateOf(JsonNode node, String vhost) {
        for (JsonNode c : node.get("certificates")) if (c.get("vhost").asText().equals(vhost)) return c;
        throw new AssertionError("no certificate of " + vhost + " in " + node);
    }

    /** The SHA-256 fingerprint of the certificate {@code openssl s_client} gets from node {@code node}. */
    private String served(int node, String serverName) throws Exception {
        SClient.Result result = SClient.handshake(cluster.member(node).tlsPort(), "-servername", serverName);
        assertTrue(result.established(), result.text());
        Matcher pem = Pattern.compile("-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", Pattern.DOTALL).matcher(result.text());
        assertTrue(pem.find(), result.text());
        return fingerprint(CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.group().getBytes(StandardCharsets.US_ASCII))));
    }

    private static String fingerprint(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return fingerprint(CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
    }

    private static String fingerprint(Certificate certificate) throws Exception {
        return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
    }

    /** A TLS connection through node {@code node} to the echo backend, verified against the test CA. */
    private SSLSocket openEcho(int node) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(pki.caCertificate())) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", cluster.member(node).tlsPort());
        socket.setSoTimeout(10_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setServerNames(List.of(new SNIHostName("localhost")));
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        return socket;
    }

    private static void echo(SSLSocket socket, String text) throws IOException {
        byte[] line = ("ECHO " + text + "\n").getBytes(StandardCharsets.US_ASCII);
        OutputStream out = socket.getOutputStream();
        out.write(line);
        out.flush();
        byte[] back = socket.getInputStream().readNBytes(line.length);
        assertEquals(new String(line, StandardCharsets.US_ASCII), new String(back, StandardCharsets.US_ASCII));
    }
}
