package io.actortls.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.Cli;
import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.HoldingClient;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stopping a node of a 3-node cluster: on SIGTERM (and on `actortls node drain`) it closes its listener at once,
 * lets its open connections finish, closes those still open at the drain deadline with reason "shutdown", leaves
 * the cluster and exits 0; sessions it made resume on the nodes that remain. The last node stops promptly too.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DrainsConnectionsThenLeavesOnSigtermTest {
    private static final Duration DRAIN_DEADLINE = Duration.ofSeconds(6);
    /** Leaving the cluster and stopping the JVM after the drain, on a busy 2-core machine. */
    private static final Duration EXIT_MARGIN = Duration.ofSeconds(15);

    @TempDir
    static Path dir;
    private TestCluster cluster;
    private DemoBackendProcess backend;
    private TestPki pki;
    private final List<String> management = new ArrayList<>();

    @BeforeAll
    void startCluster() {
        pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        backend = DemoBackendProcess.start("backend-1");
        cluster = TestCluster.start(dir, 3, (i, hocon) -> {
            management.add(hocon.management());
            return hocon.pooledVhost("localhost", cert, List.of("localhost"), "demo")
                    .pool("demo", List.of(backend.server(1)))
                    .with("shutdown.drain-deadline = " + DRAIN_DEADLINE.toSeconds() + "s")
                    .with("sessions.stats-interval = 1s")
                    .render();
        });
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) cluster.close();
        if (backend != null) backend.close();
    }

    @Test
    @Order(1)
    void sigtermRefusesNewClientsLetsHeldOnesFinishAndKeepsItsSessions() throws Exception {
        var node3 = cluster.member(3);
        Path session = Files.createTempFile(dir, "tls12-", ".pem");
        SClient.newSession(node3.tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, session, "/");
        // The session reaches node 1 by replication before node 3 goes (its resumption there is checked below).
        cluster.member(1).process().awaitRecord("session cache", 0, r -> r.path("cached").asLong() >= 1,
                Duration.ofSeconds(20), "node 1 to hold node 3's session");

        List<HoldingClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) held.add(HoldingClient.open(pki.caCertificate(), "localhost", node3.tlsPort(), 3));
            for (HoldingClient h : held) assertEquals("backend-1", h.awaitServer(Duration.ofSeconds(10)));

            long signalled = System.nanoTime();
            node3.process().handle().destroy(); // SIGTERM
            Tools.awaitNotListening(node3.tlsPort(), Duration.ofSeconds(3));
            long refusedMs = (System.nanoTime() - signalled) / 1_000_000;
            assertTrue(held.stream().allMatch(HoldingClient::isOpen), "held connections were cut when the listener closed");

            for (HoldingClient h : held)
                assertEquals(0, h.awaitEnd(DRAIN_DEADLINE), "a held response did not complete: " + h.stderrText());
            int exit = node3.process().awaitExit(DRAIN_DEADLINE.plus(EXIT_MARGIN));
            long exitMs = (System.nanoTime() - signalled) / 1_000_000;
            assertEquals(0, exit, node3.process().output());
            System.out.printf("SIGTERM: listener refused after %d ms, node exited after %d ms%n", refusedMs, exitMs);

            JsonNode drained = node3.process().awaitRecord("connections drained in", 0, r -> true, Duration.ZERO,
                    "the drain record");
            System.out.println("node 3: " + drained.path("message").asText());
            List<JsonNode> closes = node3.process().closes().stream()
                    .filter(c -> c.path("duration_ms").asLong() >= 2500).toList();
            assertEquals(2, closes.size(), "the held connections' close records: " + node3.process().closes());
            assertTrue(closes.stream().noneMatch(c -> c.path("reason").asText().equals("shutdown")), closes.toString());
        } finally {
            held.forEach(HoldingClient::close);
        }

        String node3Address = "127.0.0.1:" + node3.clusterPort();
        cluster.member(1).process().awaitLog(l -> l.contains("MemberRemoved") && l.contains(node3Address),
                Duration.ofSeconds(20), "node 1 to see node 3 removed");
        assertTrue(SClient.resumes(cluster.member(1).tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, session),
                "the session made on the stopped node did not resume on node 1");
        assertEquals(0, Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "nodes").exitCode());
    }

    @Test
    @Order(2)
    void nodeDrainThroughAnotherNodeClosesWhatIsStillOpenAtTheDeadlineWithReasonShutdown() {
        var node2 = cluster.member(2);
        try (HoldingClient held = HoldingClient.open(pki.caCertificate(), "localhost", node2.tlsPort(), 120)) {
            assertEquals("backend-1", held.awaitServer(Duration.ofSeconds(10)));

            long asked = System.nanoTime();
            Cli.Result drain = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "node", "drain",
                    "127.0.0.1:" + node2.clusterPort(), "--json");
            assertEquals(0, drain.exitCode(), drain.toString());
            assertEquals("127.0.0.1:" + node2.clusterPort(), drain.json().path("node").asText(), drain.out());
            assertEquals(DRAIN_DEADLINE.toSeconds(), drain.json().path("drainDeadlineSeconds").asLong(), drain.out());

            Tools.awaitNotListening(node2.tlsPort(), Duration.ofSeconds(5));
            assertNotEquals(0, held.awaitEnd(DRAIN_DEADLINE.plus(Duration.ofSeconds(10))),
                    "the held response cannot have completed: it was cut at the deadline");
            long cutMs = (System.nanoTime() - asked) / 1_000_000;
            assertTrue(cutMs >= DRAIN_DEADLINE.toMillis() - 500, "cut before the deadline: " + cutMs + " ms");
            node2.process().awaitCloses("shutdown", 1, Duration.ofSeconds(5));
            assertEquals(0, node2.process().awaitExit(EXIT_MARGIN), node2.process().output());
            System.out.printf("node drain: held connection cut after %d ms, node exited after %d ms%n", cutMs,
                    (System.nanoTime() - asked) / 1_000_000);
        }
    }

    @Test
    @Order(3)
    void theLastNodeStopsPromptlyOnSigterm() {
        NodeProcess last = cluster.member(1).process();
        long signalled = System.nanoTime();
        assertEquals(0, last.stop(EXIT_MARGIN), last.output());
        long ms = (System.nanoTime() - signalled) / 1_000_000;
        System.out.printf("last node: exited %d ms after SIGTERM%n", ms);
        assertTrue(ms < 8000, "the last node took " + ms + " ms to stop");
        assertFalse(last.isAlive());
    }
}
