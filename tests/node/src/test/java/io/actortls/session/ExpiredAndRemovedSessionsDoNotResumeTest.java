package io.actortls.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.CorruptingProxy;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Sessions leave the cluster cache in the two ways they should: they expire, and OpenSSL removes them.
 *
 * <p>Nodes 1 and 2 run with {@code tls.session-timeout = 3s}. Node 3's sessions live 10 minutes, so that a session
 * made there which stops resuming has been removed, not expired. OpenSSL removes a session when a connection that
 * resumed it fails after the handshake (it is freed without the clean-shutdown flag): here, the real
 * {@code openssl s_client} resumes through {@link CorruptingProxy}, which corrupts the client's first application-data
 * record, so the node sees bad_record_mac on an established, resumed connection.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExpiredAndRemovedSessionsDoNotResumeTest {
    private static final String NAME = "localhost";
    private static final SClient.Kind KIND = SClient.Kind.TLS12_SESSION_ID;

    private Path dir;
    private BackendProcess backend;
    private TestCluster cluster;

    @BeforeAll
    void startCluster() throws Exception {
        dir = Files.createTempDirectory("expired-and-removed");
        TestPki pki = new TestPki(dir);
        TestPki.Cert localhost = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        backend = BackendProcess.start();
        cluster = TestCluster.start(dir, 3, (i, hocon) -> hocon
                .vhost("localhost", localhost, List.of("localhost"), List.of(), backend.address())
                .defaultVhost("localhost")
                .with("tls.session-timeout = " + (i == 3 ? "10m" : "3s"))
                .with("sessions.stats-interval = 1s")
                // Several cold JVMs share two cores here; production's 150 ms would measure the machine, not us.
                .with("sessions.fetch-timeout = 2s")
                .render());
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) cluster.close();
        if (backend != null) backend.close();
    }

    /** Runs first, on a cluster that has cached nothing yet: node 2 then holds exactly what gossip brought it. */
    @Test
    @Order(1)
    void sessionRemovedOnOneNodeAfterItSpreadDoesNotResumeAnywhere() throws Exception {
        Path removed = Files.createTempFile(dir, "removed-", ".pem");
        Path kept = Files.createTempFile(dir, "kept-", ".pem");
        SClient.newSession(port(3), NAME, KIND, removed);
        SClient.newSession(port(3), NAME, KIND, kept);
        // Nodes 1 and 2 have seen no handshake offering either: what they cache came by gossip, into their replicas.
        for (int node : new int[] {1, 2})
            node(node).awaitRecord("session cache", 0, r -> r.path("cached").asLong() >= 2, Duration.ofSeconds(20),
                    "node " + node + " to cache both sessions made on node 3 through gossip");

        resumeOnNodeTwoAndFail(removed);

        assertRemovedEverywhere(removed);
        for (int node : new int[] {1, 3, 2})
            assertTrue(SClient.resumes(port(node), NAME, KIND, kept),
                    "a session made next to the removed one (and not removed) does not resume on node " + node);
    }

    /**
     * The same, but the failing resumption on node 2 follows the session's creation on node 3 at once: node 2 then
     * usually holds it by fetch only, before gossip has brought it into its replica, and a node polled afterwards may
     * fetch it from a node the removal has not reached yet.
     */
    @Test
    @Order(2)
    void sessionRemovedOnOneNodeRightAfterItWasMadeDoesNotResumeAnywhere() throws Exception {
        Path removed = Files.createTempFile(dir, "removed-", ".pem");
        Path kept = Files.createTempFile(dir, "kept-", ".pem");
        SClient.newSession(port(3), NAME, KIND, kept);
        SClient.newSession(port(3), NAME, KIND, removed);

        resumeOnNodeTwoAndFail(removed);

        assertRemovedEverywhere(removed);
        for (int node : new int[] {1, 3, 2})
            assertTrue(SClient.resumes(port(node), NAME, KIND, kept),
                    "a session made next to the removed one (and not removed) does not resume on node " + node);
    }

    @Test
    @Order(3)
    void sessionResumesOnAnotherNodeUntilItExpires() throws Exception {
        Path session = Files.createTempFile(dir, "expires-", ".pem");
        long made = System.nanoTime();
        SClient.newSession(port(1), NAME, KIND, session);
        assertTrue(SClient.resumes(port(2), NAME, KIND, session), "a fresh session from node 1 did not resume on node 2");
        assertTrue(System.nanoTime() - made < Duration.ofSeconds(3).toNanos(),
                "the machine is too slow for this test: making and resuming one session took 3 s or more");

        // OpenSSL stamps sessions in whole seconds: 3 s after the stamp is at most 4 s after `made`.
        long expired = made + Duration.ofMillis(4500).toNanos();
        while (System.nanoTime() < expired) Thread.sleep(Math.max(1, (expired - System.nanoTime()) / 1_000_000));
        for (int node : new int[] {2, 1, 3})
            assertFalse(SClient.resumes(port(node), NAME, KIND, session),
                    "a session of node 1 resumed on node " + node + " after its 3 s timeout");
    }

    /**
     * Resumes {@code session} on node 2 through the corrupting proxy, and checks that node 2 did resume it and then
     * closed the connection for the protocol error.
     */
    private void resumeOnNodeTwoAndFail(Path session) {
        int protocolErrors = node(2).closes("protocol-error").size();
        try (CorruptingProxy proxy = CorruptingProxy.start(port(2))) {
            assertTrue(SClient.resumes(proxy.port(), NAME, KIND, session), "the session did not resume on node 2");
            assertEquals(1, proxy.corruptedRecords(), "the proxy corrupted no record");
        }
        List<JsonNode> closes = node(2).awaitCloses("protocol-error", protocolErrors + 1, Duration.ofSeconds(10));
        JsonNode close = closes.getLast();
        assertTrue(close.path("resumed").asBoolean(), "node 2's protocol-error close was not of a resumed connection: " + close);
    }

    /**
     * Waits (bounded) until the session no longer resumes on nodes 1 and 3, then checks that it stays so, on node 2
     * too, after the time Distributed Data needs to gossip anything that would bring it back.
     */
    private void assertRemovedEverywhere(Path session) throws Exception {
        for (int node : new int[] {1, 3}) {
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (SClient.resumes(port(node), NAME, KIND, session)) {
                if (System.nanoTime() > deadline)
                    throw new AssertionError("the session removed on node 2 still resumes on node " + node
                            + " 15 s later; last statistics: " + lastStatistics());
                Thread.sleep(300);
            }
        }
        Thread.sleep(3000); // more than the gossip interval (2 s) and the subscriber notification interval (0.5 s)
        for (int node : new int[] {1, 2, 3})
            assertFalse(SClient.resumes(port(node), NAME, KIND, session),
                    "the session removed on node 2 resumes on node " + node + " again");
    }

    private String lastStatistics() {
        StringBuilder text = new StringBuilder();
        for (int node = 1; node <= 3; node++)
            text.append("\nnode ").append(node).append(": ").append(node(node).records("session cache").getLast().path("message").asText());
        return text.toString();
    }

    private int port(int node) {
        return cluster.member(node).tlsPort();
    }

    private NodeProcess node(int node) {
        return cluster.member(node).process();
    }
}
