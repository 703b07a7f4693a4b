package io.actortls.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Curl;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.Sockets;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bytes that are not a TLS ClientHello are refused at once: the node closes the socket long before the handshake
 * timeout, logs a protocol error with OpenSSL's reason, sends nothing but (at most) an alert, and keeps serving
 * real clients meanwhile.
 */
class ClosesGarbageInsteadOfClientHelloTest {
    /** Far above PROMPTLY, so a close in time cannot be the handshake timeout. */
    private static final String HANDSHAKE_TIMEOUT = "30s";
    private static final Duration PROMPTLY = Duration.ofSeconds(3);

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
        node = NodeProcess.startReady(dir, new Hocon(port)
                .vhost("localhost", pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost"),
                        List.of("localhost"), List.of(), backend.address())
                .with("timeouts.handshake = " + HANDSHAKE_TIMEOUT)
                .render());
    }

    @AfterAll
    static void stopNode() {
        if (node != null) node.close();
        if (backend != null) backend.close();
    }

    @Test
    void plainHttpRequest() throws Exception {
        byte[] request = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        JsonNode close = assertClosedPromptlyWhileOthersAreServed(request);
        assertTrue(close.path("detail").asText().endsWith("SSL routines::http request"), close.toString());
    }

    @Test
    void randomBytes() throws Exception {
        byte[] garbage = new byte[300];
        new Random(7).nextBytes(garbage);
        garbage[0] = 0x42; // no TLS record type: OpenSSL can tell at once, without waiting for more bytes
        JsonNode close = assertClosedPromptlyWhileOthersAreServed(garbage);
        assertTrue(close.path("detail").asText().matches("TLS handshake: error:[0-9A-F]{8}:SSL routines::[a-z ]+"),
                close.toString());
    }

    private JsonNode assertClosedPromptlyWhileOthersAreServed(byte[] garbage) throws Exception {
        int before = node.closes().size();
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.getOutputStream().write(garbage);
            socket.getOutputStream().flush();
            long start = System.nanoTime();
            CompletableFuture<Curl.Response> other = CompletableFuture.supplyAsync(
                    () -> Curl.get(pki.caCertificate(), "localhost", port, "/1000"), Thread.ofPlatform().daemon()::start);

            byte[] answer = Sockets.readUntilClosed(socket, PROMPTLY.plusSeconds(10));
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertTrue(took.compareTo(PROMPTLY) < 0, "the node took " + took.toMillis() + " ms to close");
            assertTrue(answer.length == 0 || answer[0] == 0x15, "nothing but a TLS alert may come back, got "
                    + answer.length + " bytes: " + new String(answer, StandardCharsets.ISO_8859_1));

            Curl.Response response = other.get(60, TimeUnit.SECONDS);
            assertEquals(0, response.exitCode(), response.describe());
            assertEquals(200, response.status(), response.describe());
        }
        JsonNode close = node.awaitClose(c -> c.path("reason").asText().equals("protocol-error")
                && c.path("client_bytes_in").asLong() == garbage.length, Duration.ofSeconds(10), "the garbage connection");
        assertTrue(close.path("protocol").isNull(), close.toString());
        List<JsonNode> closes = node.awaitCloses(before + 2, Duration.ofSeconds(10));
        assertEquals(1, closes.subList(before, closes.size()).stream()
                .filter(c -> c.path("reason").asText().equals("client-closed")).count(), "the curl: " + closes);
        return close;
    }
}
