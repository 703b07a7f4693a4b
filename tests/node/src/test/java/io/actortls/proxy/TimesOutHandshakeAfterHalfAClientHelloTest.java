package io.actortls.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Curl;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.SClient;
import io.actortls.testkit.Sockets;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that sends half of a real ClientHello and then nothing is closed once timeouts.handshake has passed,
 * logged as handshake-timeout, while other clients are served as usual.
 */
class TimesOutHandshakeAfterHalfAClientHelloTest {
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration EARLIEST = Duration.ofMillis(1500);
    private static final Duration LATEST = Duration.ofSeconds(4);

    @TempDir
    Path dir;

    @Test
    void halfAClientHelloIsClosedAfterTheHandshakeTimeout() throws IOException {
        byte[] clientHello = SClient.clientHello("-servername", "localhost");
        byte[] half = Arrays.copyOf(clientHello, clientHello.length / 2);

        TestPki pki = new TestPki(dir);
        int port = Tools.freePort();
        try (BackendProcess backend = BackendProcess.start();
             NodeProcess node = NodeProcess.startReady(dir, new Hocon(port)
                     .vhost("localhost", pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost"),
                             List.of("localhost"), List.of(), backend.address())
                     .with("timeouts.handshake = " + HANDSHAKE_TIMEOUT.toSeconds() + "s")
                     .render());
             Socket stalled = new Socket()) {
            // A first client warms the node up, so the one served during the stall is far from the 2 s limit too.
            assertServed(pki, port);
            long start = System.nanoTime();
            stalled.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            stalled.getOutputStream().write(half);
            stalled.getOutputStream().flush();

            // Meanwhile a real client is served.
            assertServed(pki, port);

            int answered = Sockets.readUntilClosed(stalled, LATEST.plusSeconds(10)).length;
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertTrue(took.compareTo(EARLIEST) >= 0 && took.compareTo(LATEST) <= 0,
                    "closed after " + took.toMillis() + " ms; timeouts.handshake is " + HANDSHAKE_TIMEOUT.toMillis() + " ms");
            assertEquals(0, answered, "the node has nothing to say to half a ClientHello");

            JsonNode close = node.awaitCloses("handshake-timeout", 1, Duration.ofSeconds(10)).getFirst();
            assertEquals(half.length, close.path("client_bytes_in").asLong(), close.toString());
            assertTrue(close.path("protocol").isNull(), close.toString());
            List<JsonNode> closes = node.closes();
            assertEquals(List.of("client-closed", "client-closed", "handshake-timeout"),
                    closes.stream().map(c -> c.path("reason").asText()).sorted().toList(), closes.toString());
        }
    }

    private static void assertServed(TestPki pki, int port) {
        Curl.Response response = Curl.get(pki.caCertificate(), "localhost", port, "/1000");
        assertEquals(0, response.exitCode(), response.describe());
        assertEquals(200, response.status(), response.describe());
    }
}
