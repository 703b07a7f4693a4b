package io.actortls.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.Run;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.charset.StandardCharsets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each side's end of the conversation is forwarded to the other without cutting off what is still in flight:
 * a backend that finishes first has its whole reply delivered, then close_notify; a client that finishes first
 * (close_notify) still has its last bytes delivered to the backend and the backend's answer taken; and a client
 * that finished and then went away does not keep its connection busy draining the backend.
 */
class ForwardsHalfCloseTest {
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
                .vhost("localhost", pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost"),
                        List.of("localhost"), List.of(), backend.address())
                .render());
    }

    @AfterAll
    static void stopNode() {
        if (node != null) node.close();
        if (backend != null) backend.close();
    }

    @Test
    void backendClosingFirstDeliversTheWholeReplyThenCloseNotify() throws IOException {
        int bodyLength = 300_000;
        int before = node.closes().size();
        Path messages = dir.resolve("backend-first.msg");
        // -quiet: stdout carries only the application data, and s_client ignores the end of its stdin, so only the
        // server's close can end it. -msg: the TLS records it receives are listed in the message file.
        Run run = Run.of(SClient.command(port, "-servername", "localhost", "-quiet", "-msg", "-msgfile", messages.toString()),
                ("GET /" + bodyLength + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII), Duration.ofSeconds(30));
        assertEquals(0, run.exitCode(), run.stderr());
        String out = new String(run.stdout(), StandardCharsets.ISO_8859_1);
        assertTrue(out.startsWith("HTTP/1.1 200 OK\r\n"), "no HTTP response: " + out.substring(0, Math.min(200, out.length())));
        String body = out.substring(out.indexOf("\r\n\r\n") + 4);
        assertEquals("x".repeat(bodyLength), body, "the whole body, and nothing after it");
        String received = Files.readString(messages);
        assertTrue(received.contains("<<< TLS 1.3, Alert [length 0002], warning close_notify"),
                "the client must receive close_notify, not just a FIN:\n" + received);
        assertFalse(run.stderr().contains("read:errno"), run.stderr());

        JsonNode close = node.awaitCloses(before + 1, Duration.ofSeconds(10)).get(before);
        assertEquals("backend-closed", close.path("reason").asText(), close.toString());
        assertEquals(out.length(), close.path("backend_bytes_in").asLong(), close.toString());
    }

    @Test
    void clientClosingFirstStillHasItsBytesAndTheBackendsAnswerForwarded() {
        byte[] payload = new byte[1000];
        Arrays.fill(payload, (byte) 'e'); // not an HTTP verb: the backend echoes it
        int before = node.closes().size();
        // Without -ign_eof, s_client answers the end of its stdin with close_notify right after the payload.
        Run run = Run.of(SClient.command(port, "-servername", "localhost"), payload, Duration.ofSeconds(30));
        assertEquals(0, run.exitCode(), run.stderr());
        assertTrue(run.stderr().contains("DONE"), "s_client should have ended on its stdin: " + run.stderr());

        JsonNode close = node.awaitCloses(before + 1, Duration.ofSeconds(10)).get(before);
        assertEquals("client-closed", close.path("reason").asText(), close.toString());
        assertEquals(payload.length, close.path("backend_bytes_out").asLong(), "the payload reaches the backend: " + close);
        assertEquals(payload.length, close.path("backend_bytes_in").asLong(), "the echo is taken from the backend: " + close);
    }

    @Test
    void clientThatClosedAndLeftDoesNotKeepDrainingTheBackend() {
        long huge = 2_000_000_000L;
        int before = node.closes().size();
        // s_client sends the request and close_notify, reads (and drops) for half a second, then closes its socket
        // while the backend is still sending: the node's writes to it fail from then on.
        Run run = Run.of(SClient.command(port, "-servername", "localhost"),
                ("GET /" + huge + " HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII),
                Duration.ofSeconds(30));
        assertTrue(run.stderr().contains("DONE"), "s_client should have ended on its stdin: " + run.stderr());

        JsonNode close = node.awaitCloses(before + 1, Duration.ofSeconds(10)).get(before);
        // What s_client read in its last half second went through; the rest of the 2 GB must not be fetched.
        assertTrue(close.path("backend_bytes_in").asLong() < huge / 2,
                "the node kept reading from the backend for a client that was gone: " + close);
        assertTrue(close.path("duration_ms").asLong() < 5000, "the connection outlived its client: " + close);
        assertEquals("client-reset", close.path("reason").asText(), close.toString());
    }
}
