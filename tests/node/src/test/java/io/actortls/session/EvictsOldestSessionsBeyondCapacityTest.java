package io.actortls.session;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** With sessions.max-entries = 4, the sweep removes the oldest sessions beyond four, on every node. */
class EvictsOldestSessionsBeyondCapacityTest {
    @Test
    void oldestSessionsGoFirstClusterWide() throws Exception {
        Path dir = Files.createTempDirectory("evicts-oldest");
        TestPki.Cert cert = new TestPki(dir).issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        try (BackendProcess backend = BackendProcess.start();
             TestCluster cluster = TestCluster.start(dir, 2, (i, hocon) -> hocon
                     .vhost("localhost", cert, List.of("localhost"), List.of(), backend.address())
                     .with("sessions.max-entries = 4")
                     .with("sessions.sweep-interval = 1s")
                     .with("sessions.stats-interval = 1s")
                     .with("sessions.fetch-timeout = 2s")
                     .render())) {
            List<Path> sessions = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                Path session = Files.createTempFile(dir, "session-" + i + "-", ".pem");
                SClient.newSession(cluster.member(1).tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, session);
                sessions.add(session);
                Thread.sleep(20); // distinct creation times, so "oldest" is well defined
            }
            // Wait for a sweep on both nodes after the last session was made: their caches hold at most 4 again.
            for (int node = 1; node <= 2; node++) {
                var process = cluster.member(node).process();
                int from = process.records("session cache").size();
                process.awaitRecord("session cache", from, r -> r.path("evictions").asLong() >= 3 || r.path("cached").asLong() <= 4,
                        Duration.ofSeconds(20), "node " + node + " to evict down to 4 sessions");
            }
            for (int node = 1; node <= 2; node++) {
                int port = cluster.member(node).tlsPort();
                assertFalse(SClient.resumes(port, "localhost", SClient.Kind.TLS12_SESSION_ID, sessions.getFirst()),
                        "the oldest session still resumes on node " + node);
                assertTrue(SClient.resumes(port, "localhost", SClient.Kind.TLS12_SESSION_ID, sessions.getLast()),
                        "the newest session no longer resumes on node " + node);
            }
        }
    }
}
