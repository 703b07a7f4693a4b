package io.actortls.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.Curl;
import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A server that comes back up starts at a tenth of its weight and ramps to all of it over {@code slow-start}:
 * right after its return it gets far less than its equal share, once the ramp is over it gets its share again.
 */
class RampsUpARecoveredServerDuringSlowStartTest {
    private static final Duration SLOW_START = Duration.ofSeconds(20);
    private static final int BATCH = 60;

    @Test
    void aReturningServerGetsARampingShare() throws Exception {
        Path dir = Files.createTempDirectory("slow-start");
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        DemoBackendProcess steady = DemoBackendProcess.start("steady");
        DemoBackendProcess first = DemoBackendProcess.start("returning");
        DemoBackendProcess returning = first;
        int returningPort = first.port();
        try (TestCluster cluster = TestCluster.start(dir, 1, (i, hocon) -> hocon
                .pooledVhost("localhost", cert, List.of("localhost"), "p")
                .pool("p", List.of(steady.server(1), first.server(1)),
                        "slow-start = " + SLOW_START.toSeconds() + "s",
                        "health { check = \"tcp\", interval = 300ms, timeout = 200ms, rise = 1, fall = 1 }")
                .with("log.stats-interval = 1s")
                .render())) {
            var node = cluster.member(1).process();
            int port = cluster.member(1).tlsPort();
            returning.kill();
            node.awaitRecord("server down", 0, r -> r.path("server").asText().equals("returning"), Duration.ofSeconds(10),
                    "the killed server to be marked down");
            int upRecordsBefore = node.records("server up").size();
            returning = DemoBackendProcess.start("returning", returningPort, false);
            node.awaitRecord("server up", upRecordsBefore, r -> r.path("server").asText().equals("returning"),
                    Duration.ofSeconds(10), "the restarted server to be marked up");
            long upAt = System.nanoTime();

            // Right after its return: weight 0.1 against 1 gives it about 1 connection in 11.
            double early = shareOf("returning", Curl.onNewConnections(pki.caCertificate(), "localhost", port, "/", BATCH));
            double earlyAtSeconds = (System.nanoTime() - upAt) / 1e9;
            assertTrue(earlyAtSeconds < SLOW_START.toSeconds() / 2.0,
                    "the first batch must run in the first half of the ramp; it ended after " + earlyAtSeconds + " s");
            var log = node;
            assertTrue(early < 0.35, () -> "share right after coming up: " + early + " (equal share would be 0.5); node log:\n"
                    + log.output());

            long rampOver = upAt + SLOW_START.toNanos() + Duration.ofSeconds(1).toNanos();
            while (System.nanoTime() < rampOver) Thread.sleep(200);
            double late = shareOf("returning", Curl.onNewConnections(pki.caCertificate(), "localhost", port, "/", BATCH));
            assertEquals(0.5, late, 0.02, "share after the ramp (equal weights)");
        } finally {
            steady.close();
            returning.close();
        }
    }

    private static double shareOf(String server, List<String> bodies) {
        assertEquals(BATCH, bodies.size(), "one body per connection: " + bodies);
        return bodies.stream().filter(b -> b.equals("Hello from " + server)).count() / (double) bodies.size();
    }
}
