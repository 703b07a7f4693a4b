package io.actortls.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A node started with a bad configuration exits with code 2 within a bounded time, prints a message naming the key
 * and the problem on stderr, and leaves nothing listening on its port.
 */
class RejectsBadConfigurationTest {
    private static final Duration EXIT_BOUND = Duration.ofSeconds(45);
    private static final String BACKEND = "127.0.0.1:9"; // never contacted: the node stops before accepting

    @TempDir
    static Path dir;
    static TestPki.Cert cert;
    static TestPki.Cert other;

    @BeforeAll
    static void certificates() {
        TestPki pki = new TestPki(dir);
        cert = pki.issue("site", TestPki.KeyType.EC_P256, "site.test");
        other = pki.issue("other", TestPki.KeyType.EC_P256, "other.test");
    }

    private static Hocon valid(int port) {
        return new Hocon(port).vhost("site", cert, List.of("site.test"), List.of("http/1.1"), BACKEND);
    }

    @Test
    void aMissingCertificateFile() {
        int port = Tools.freePort();
        Path missing = dir.resolve("no-such.crt");
        String err = assertRejected(port, new Hocon(port)
                .vhost("site", new TestPki.Cert(missing, cert.key()), List.of("site.test"), List.of(), BACKEND).render());
        assertContains(err, "actortls.vhosts.site.certificate: ");
        assertContains(err, missing + " does not exist");
    }

    @Test
    void aManagementRateLimitOfZero() {
        int port = Tools.freePort();
        String err = assertRejected(port, valid(port).with("management.failed-logins-per-minute = 0").render());
        assertContains(err, "actortls.management.failed-logins-per-minute: must be at least 1, is 0");
    }

    @Test
    void tooManyIoThreads() {
        int port = Tools.freePort();
        String err = assertRejected(port, valid(port).with("io-threads = 5000").render());
        assertContains(err, "actortls.io-threads: must be 0 (one per core) to 1024, is 5000");
    }

    @Test
    void aKeyThatDoesNotMatchTheCertificate() {
        int port = Tools.freePort();
        String err = assertRejected(port, new Hocon(port)
                .vhost("site", new TestPki.Cert(cert.certificate(), other.key()), List.of("site.test"), List.of(), BACKEND)
                .render());
        assertContains(err, "actortls.vhosts.site.key: ");
        assertContains(err, "key values mismatch");
    }

    @Test
    void anUnknownKeyInASection() {
        int port = Tools.freePort();
        String err = assertRejected(port, valid(port).with("timeouts.idel = 5m").render());
        assertContains(err, "actortls.timeouts.idel: unknown key");
    }

    @Test
    void anUnknownKeyAtTheTop() {
        int port = Tools.freePort();
        String err = assertRejected(port, valid(port).with("listner-defaults.host = \"127.0.0.1\"").render());
        assertContains(err, "actortls.listner-defaults: unknown key");
    }

    @Test
    void anUnknownKeyInsideAVhost() {
        int port = Tools.freePort();
        String err = assertRejected(port, valid(port).with("vhosts.site.server-name = [\"site.test\"]").render());
        assertContains(err, "actortls.vhosts.site.server-name: unknown key");
    }

    @Test
    void aPortHeldByAnotherSocket() throws IOException {
        ServerSocket holder = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        int port = holder.getLocalPort();
        try {
            try (NodeProcess node = NodeProcess.start(dir, valid(port).render())) {
                assertEquals(Main.EXIT_USAGE, node.awaitExit(EXIT_BOUND), node.output());
                String err = node.stderrText();
                assertContains(err, "actortls: configuration error: actortls.listeners[0]: cannot listen on ");
                assertContains(err, ":" + port);
                assertTrue(Pattern.compile("(?i)address already in use").matcher(err).find(), node.output());
                assertFalse(node.output().contains("ActorTls node ready"), node.output());
            }
        } finally {
            holder.close();
        }
        assertFalse(Tools.isListening(port), "nothing may stay bound to " + port + " once the node and the holder are gone");
    }

    @Test
    void aHoconSyntaxError() {
        int port = Tools.freePort();
        String broken = "actortls {\n  listeners = [ { name = \"test\", port = " + port + " } ]\n"
                + "  tls { min-version = \"TLSv1.2\"\n}\n"; // one close brace short
        try (NodeProcess node = NodeProcess.start(dir, broken)) {
            assertEquals(Main.EXIT_USAGE, node.awaitExit(EXIT_BOUND), node.output());
            String err = node.stderrText();
            assertContains(err, "actortls: configuration error: ");
            assertContains(err, node.configFile().getFileName().toString());
            assertTrue(Pattern.compile(node.configFile().getFileName() + ": \\d+: ").matcher(err).find(),
                    "the file and line of the error\n" + err);
            assertFalse(Tools.isListening(port));
        }
    }

    @Test
    void tls11AsMinimumVersion() {
        int port = Tools.freePort();
        String err = assertRejected(port, valid(port).with("tls.min-version = \"TLSv1.1\"").render());
        assertContains(err, "actortls.tls.min-version: ");
        assertContains(err, "\"TLSv1.1\" is not supported");
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "127.0.0.1:http", "127.0.0.1:70000", ":8080"})
    void aBackendThatIsNotHostAndPort(String backend) {
        int port = Tools.freePort();
        String err = assertRejected(port, new Hocon(port).vhost("site", cert, List.of("site.test"), List.of(), backend).render());
        assertContains(err, "actortls.vhosts.site.backends: ");
        assertContains(err, "\"" + backend + "\" is not host:port");
    }

    /** Each case: extra HOCON, then the message it must produce (key: problem). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "vhosts.site.pool = \"nope\" | actortls.vhosts.site.pool: names no entry of actortls.pools: nope",
            "pools.p { servers = [\"127.0.0.1:9\"], algorithm = \"random\" } | actortls.pools.p.algorithm: \"random\" is not roundrobin, leastconn or source",
            "pools.p { servers = [{ name = \"a\", address = \"127.0.0.1:9\", weight = 0 }] } | actortls.pools.p.servers[0].weight: must be 1-1000, not 0",
            "pools.p { servers = [] } | actortls.pools.p.servers: no server is listed",
            "pools.p { servers = [\"127.0.0.1:9\", \"127.0.0.1:9\"] } | actortls.pools.p.servers: server 127.0.0.1:9 is listed twice",
            "pools.p { servers = [\"127.0.0.1:9\"], timeouts { handshake = 1s } } | actortls.pools.p.timeouts.handshake: cannot be set here",
            "pools.p { servers = [\"127.0.0.1:9\"], health { check = \"icmp\" } } | actortls.pools.p.health.check: \"icmp\" is not none, tcp or http",
            "pools.p { servers = [\"127.0.0.1:9\"], proxy-protocol = \"v3\" } | actortls.pools.p.proxy-protocol: \"v3\" is not none, v1 or v2",
            "pools.p { servers = [\"127.0.0.1:9\"], scope = \"planet\" } | actortls.pools.p.scope: \"planet\" is neither cluster nor node",
            "pools.p { servers = [\"127.0.0.1:9\"], queue { size = 3 } } | actortls.pools.p.queue.size: unknown key"})
    void aBadPool(String extra, String expected) {
        int port = Tools.freePort();
        String err = assertRejected(port, valid(port).with(extra).render());
        assertContains(err, expected);
    }

    @Test
    void noMemoryForLogLines() {
        int port = Tools.freePort();
        String err = assertRejected(port, valid(port).with("log.memory-lines = 0").render());
        assertContains(err, "actortls.log.memory-lines: must be at least 1, is 0");
    }

    @Test
    void noVhosts() {
        int port = Tools.freePort();
        String err = assertRejected(port, new Hocon(port).render());
        assertContains(err, "actortls.vhosts: no virtual host is defined");
    }

    @Test
    void aDefaultVhostNamingNoVhost() {
        int port = Tools.freePort();
        String err = assertRejected(port, valid(port)
                .vhost("other", other, List.of("other.test"), List.of(), BACKEND)
                .defaultVhost("nope").render());
        assertContains(err, "actortls.default-vhost: ");
        assertContains(err, "nope");
    }

    @Test
    void severalVhostsAndNoDefaultVhost() {
        int port = Tools.freePort();
        String err = assertRejected(port, valid(port).vhost("other", other, List.of("other.test"), List.of(), BACKEND).render());
        assertContains(err, "actortls.default-vhost: ");
    }

    @Test
    void anInvalidCipherList() {
        int port = Tools.freePort();
        String err = assertRejected(port, valid(port).with("tls.ciphers = \"NO-SUCH-CIPHER\"").render());
        assertContains(err, "actortls.tls.ciphers: ");
        assertContains(err, "NO-SUCH-CIPHER");
        assertContains(err, "no cipher match");
    }

    /** Starts the node, expects exit code 2 within the bound and nothing listening; returns its stderr. */
    private static String assertRejected(int port, String hocon) {
        try (NodeProcess node = NodeProcess.start(dir, hocon)) {
            assertEquals(Main.EXIT_USAGE, node.awaitExit(EXIT_BOUND), node.output());
            String err = node.stderrText();
            assertContains(err, "actortls: configuration error: ");
            assertFalse(node.output().contains("ActorTls node ready"), node.output());
            assertFalse(Tools.isListening(port), "nothing may listen on " + port + "\n" + node.output());
            return err;
        }
    }

    private static void assertContains(String text, String expected) {
        assertTrue(text.contains(expected), "expected \"" + expected + "\" in:\n" + text);
    }
}
