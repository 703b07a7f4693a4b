package io.actortls.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.ClientProcess;
import io.actortls.testkit.Curl;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client asks for 2 GB and then never reads. Back-pressure must reach the backend: the node keeps at most a
 * bounded amount in memory (its RSS stays flat) instead of buffering what the backend could send, other clients
 * are served meanwhile, and once the slow client goes away its connection ends without draining the backend.
 */
class BoundsMemoryForAClientThatNeverReadsTest {
    private static final long HUGE = 2_000_000_000L;
    private static final long RSS_GROWTH_BOUND_KIB = 64 * 1024;
    private static final long BACKEND_READ_BOUND = 64L * 1024 * 1024;
    private static final Duration STALL = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void rssStaysFlatAndOthersAreServedWhileOneClientStopsReading() {
        TestPki pki = new TestPki(dir);
        int port = Tools.freePort();
        try (BackendProcess backend = BackendProcess.start();
             NodeProcess node = NodeProcess.startReady(dir, new Hocon(port)
                     .vhost("web", pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost"),
                             List.of("localhost"), List.of(), backend.address())
                     .vhost("slow", pki.issue("slow", TestPki.KeyType.EC_P256, "slow.test"),
                             List.of("slow.test"), List.of(), backend.address())
                     .defaultVhost("web")
                     .render())) {
            for (int i = 0; i < 5; i++) assertOk(node, Curl.get(pki.caCertificate(), "localhost", port, "/1000000"));
            long baselineKib = node.rssKib();
            long peakKib = baselineKib;

            // s_client writes what it receives to stdout; the test never reads that pipe, so s_client blocks
            // writing to it and stops reading its socket after the first 64 KiB.
            try (ClientProcess slow = ClientProcess.start(SClient.command(port, "-servername", "slow.test", "-quiet", "-nocommands"))) {
                slow.send(("GET /" + HUGE + " HTTP/1.1\r\nHost: slow.test\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                long end = System.nanoTime() + STALL.toNanos();
                int served = 0;
                while (System.nanoTime() < end) {
                    peakKib = Math.max(peakKib, node.rssKib());
                    assertOk(node, Curl.get(pki.caCertificate(), "localhost", port, "/100000"));
                    served++;
                    peakKib = Math.max(peakKib, node.rssKib());
                    Thread.sleep(250); // pacing the RSS samples, not waiting for anything
                }
                assertTrue(served >= 3, "only " + served + " requests were served during the stall");
                assertTrue(slow.isAlive(), "the slow client should still be connected; stderr:\n" + slow.stderr());
                assertTrue(node.closes().stream().noneMatch(c -> c.path("vhost").asText().equals("slow")),
                        "the slow connection must stay open while stalled: " + node.closes());
            }
            long growthKib = peakKib - baselineKib;
            assertTrue(growthKib < RSS_GROWTH_BOUND_KIB, "node RSS grew by " + growthKib + " KiB (baseline "
                    + baselineKib + " KiB) while one client did not read");

            // The slow client is gone: its connection ends, and the backend is not drained of its 2 GB.
            JsonNode close = node.awaitClose(c -> c.path("vhost").asText().equals("slow"), Duration.ofSeconds(15),
                    "the slow client's connection");
            long fromBackend = close.path("backend_bytes_in").asLong();
            assertTrue(fromBackend < BACKEND_READ_BOUND, "the node read " + fromBackend
                    + " bytes from the backend for a client that had stopped reading: " + close);
            assertTrue(List.of("client-reset", "client-closed").contains(close.path("reason").asText()), close.toString());
            assertOk(node, Curl.get(pki.caCertificate(), "localhost", port, "/1000"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static void assertOk(NodeProcess node, Curl.Response response) {
        assertEquals(0, response.exitCode(), () -> response.describe() + "\n" + node.output());
        assertEquals(200, response.status(), () -> response.describe() + "\n" + node.output());
    }
}
