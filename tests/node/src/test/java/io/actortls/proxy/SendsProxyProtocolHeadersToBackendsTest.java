package io.actortls.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.Run;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A pool with {@code proxy-protocol = "v1"} or {@code "v2"} sends its backend the PROXY header before the client's
 * first byte: the client's real address and port (curl's own), the node's address and port, and with v2 what the
 * handshake settled (ALPN, SNI, TLS version and cipher, as curl saw them); a pool without it sends none. The
 * backends are demo backends reading PROXY headers, which answer {@code GET /proxy} with what they parsed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SendsProxyProtocolHeadersToBackendsTest {
    /** After the body: curl's local port, which the node saw as the client's. */
    private static final Pattern LOCAL_PORT = Pattern.compile("\ncurl-local-port=(\\d+)\n$");
    /** curl -v (OpenSSL): "* SSL connection using TLSv1.3 / TLS_AES_128_GCM_SHA256". */
    private static final Pattern CONNECTION = Pattern.compile("SSL connection using (\\S+) / (\\S+)");
    private static final Pattern ALPN = Pattern.compile("ALPN: server accepted (\\S+)");

    private Path dir;
    private TestPki pki;
    private DemoBackendProcess v1Backend;
    private DemoBackendProcess v2Backend;
    private TestCluster cluster;
    private int port;

    @BeforeAll
    void start() throws IOException {
        dir = Files.createTempDirectory("proxy-protocol");
        pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("pp", TestPki.KeyType.EC_P256, "v1.test", "v2.test", "plain.test");
        v1Backend = DemoBackendProcess.start("backend-v1", Tools.freePort(), true);
        v2Backend = DemoBackendProcess.start("backend-v2", Tools.freePort(), true);
        cluster = TestCluster.start(dir, 1, (i, hocon) -> hocon
                .pooledVhost("v1", cert, List.of("v1.test"), "v1")
                .pooledVhost("v2", cert, List.of("v2.test"), "v2", "alpn = [\"http/1.1\"]")
                .pooledVhost("plain", cert, List.of("plain.test"), "plain")
                .defaultVhost("plain")
                .pool("v1", List.of(v1Backend.server(1)), "proxy-protocol = \"v1\"")
                .pool("v2", List.of(v2Backend.server(1)), "proxy-protocol = \"v2\"")
                // The same backend as v2's, which reads a header when one comes: here none does.
                .pool("plain", List.of(v2Backend.server(1)))
                .render());
        port = cluster.member(1).tlsPort();
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        if (v2Backend != null) v2Backend.close();
        if (v1Backend != null) v1Backend.close();
    }

    @Test
    void v1CarriesTheClientsAndTheNodesAddresses() {
        Fetched fetched = fetch("v1.test");
        assertEquals(List.of("version=1", "source=127.0.0.1:" + fetched.localPort(), "destination=127.0.0.1:" + port),
                fetched.fields(), fetched.verbose());
    }

    /** Each cipher is the only one curl offers, so the node cannot but choose it. */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "TLSv1.3, TLS_CHACHA20_POLY1305_SHA256, --tlsv1.3, --tls13-ciphers",
            "TLSv1.2, ECDHE-ECDSA-AES256-GCM-SHA384, --tls-max, --ciphers"})
    void v2AlsoCarriesAlpnSniAndTheNegotiatedVersionAndCipher(String version, String cipher, String versionOption,
                                                               String cipherOption) {
        List<String> options = new ArrayList<>(List.of(versionOption));
        if (versionOption.equals("--tls-max")) options.add("1.2");
        options.addAll(List.of(cipherOption, cipher));
        Fetched fetched = fetch("v2.test", options.toArray(String[]::new));
        assertEquals(version, fetched.protocol(), "curl's TLS version: " + fetched.verbose());
        assertEquals(cipher, fetched.cipher(), "curl's cipher: " + fetched.verbose());
        assertEquals("http/1.1", fetched.alpn(), "curl's ALPN: " + fetched.verbose());
        assertEquals(List.of("version=2", "source=127.0.0.1:" + fetched.localPort(), "destination=127.0.0.1:" + port,
                        "alpn=http/1.1", "authority=v2.test", "ssl-version=" + version, "ssl-cipher=" + cipher),
                fetched.fields(), fetched.verbose());
    }

    @Test
    void aPoolWithoutProxyProtocolSendsNoHeader() {
        Fetched fetched = fetch("plain.test");
        assertEquals(List.of("version=none"), fetched.fields(), fetched.verbose());
    }

    /**
     * What one {@code curl -v GET /proxy} through the node got: the backend's lines, curl's local port, and the
     * TLS version, cipher and ALPN protocol curl reported (null where it reported none).
     */
    private record Fetched(List<String> fields, int localPort, String protocol, String cipher, String alpn,
                           String verbose) {}

    private Fetched fetch(String host, String... options) {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "-v", "--fail", "--cacert", pki.caCertificate().toString(),
                "--resolve", host + ":" + port + ":127.0.0.1", "-w", "\ncurl-local-port=%{local_port}\n"));
        command.addAll(List.of(options));
        command.add("https://" + host + ":" + port + "/proxy");
        Run run = Run.of(command, null, Duration.ofSeconds(30));
        assertEquals(0, run.exitCode(), "curl failed: " + run.all());
        Matcher localPort = LOCAL_PORT.matcher(run.out());
        if (!localPort.find()) throw new AssertionError("no local port after the body: " + run.all());
        List<String> fields = run.out().substring(0, localPort.start()).lines().toList();
        Matcher connection = CONNECTION.matcher(run.stderr());
        Matcher alpn = ALPN.matcher(run.stderr());
        boolean connected = connection.find();
        return new Fetched(fields, Integer.parseInt(localPort.group(1)), connected ? connection.group(1) : null,
                connected ? connection.group(2) : null, alpn.find() ? alpn.group(1) : null, run.all());
    }
}
