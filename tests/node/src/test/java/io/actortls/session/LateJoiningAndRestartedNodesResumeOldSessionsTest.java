package io.actortls.session;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Sessions made before a node existed resume on it: a node that joins late receives the whole session cache by
 * gossip (its statistics show it cached before any client offers it a session), and so does a node started in place
 * of one that was stopped.
 */
class LateJoiningAndRestartedNodesResumeOldSessionsTest {
    private static final Duration UP = Duration.ofSeconds(60);

    private BackendProcess backend;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (backend != null) backend.close();
    }

    @Test
    void lateJoiningAndRestartedNodesReceiveTheCacheAndResumeOldSessions() throws Exception {
        Path dir = Files.createTempDirectory("late-joining");
        TestPki pki = new TestPki(dir);
        TestPki.Cert localhost = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        TestPki.Cert stateful = pki.issue("stateful", TestPki.KeyType.EC_P256, "stateful.test");
        backend = BackendProcess.start();
        BiFunction<Integer, Hocon, String> config = (i, hocon) -> hocon
                .vhost("localhost", localhost, List.of("localhost"), List.of(), backend.address())
                .vhost("stateful", stateful, List.of("stateful.test"), List.of(), backend.address())
                .defaultVhost("localhost")
                .with("vhosts.stateful.resumption = \"stateful\"")
                .with("sessions.stats-interval = 1s")
                // Several cold JVMs share two cores here; production's 150 ms would measure the machine, not us.
                .with("sessions.fetch-timeout = 2s")
                .render();
        cluster = TestCluster.start(dir, 2, config);

        Path tls12 = Files.createTempFile(dir, "tls12-", ".pem");
        Path tls13 = Files.createTempFile(dir, "tls13-", ".pem");
        int before = cluster.member(1).process().records("session cache").size();
        SClient.newSession(cluster.member(1).tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, tls12);
        SClient.newSession(cluster.member(1).tlsPort(), "stateful.test", SClient.Kind.TLS13_TICKET, tls13);
        // One TLS 1.2 session, and one cache entry per TLS 1.3 stateful ticket (OpenSSL sends two): count them on
        // the node that made them, the only one that has handled a handshake.
        long made = cluster.member(1).process().awaitRecord("session cache", before + 1,
                r -> r.path("cached").asLong() >= 2, Duration.ofSeconds(10), "node 1 to count its sessions")
                .path("cached").asLong();

        // A node that joins late.
        NodeProcess late = cluster.add(dir, 3, cluster.seedPort(), config).process();
        late.awaitMembersUp(3, UP);
        awaitCached(late, made, "the late node");
        assertResumes(cluster.member(3).tlsPort(), tls12, tls13, "the node that joined late");

        // Node 2 stops; a new node process takes its place (with new ports).
        cluster.member(2).process().close();
        String node2 = "127.0.0.1:" + cluster.member(2).clusterPort();
        cluster.member(1).process().awaitLog(line -> line.contains("MemberRemoved") && line.contains(node2), UP,
                "node 1 to see node 2 removed from the cluster");
        NodeProcess replacement = cluster.add(dir, 4, cluster.seedPort(), config).process();
        replacement.awaitMembersUp(3, UP);
        awaitCached(replacement, made, "the node started in place of node 2");
        assertResumes(cluster.member(4).tlsPort(), tls12, tls13, "the node started in place of node 2");
    }

    /** Waits for a statistics record showing at least {@code made} sessions: before any client offered one, so by gossip. */
    private static void awaitCached(NodeProcess node, long made, String which) {
        JsonNode record = node.awaitRecord("session cache", 0, r -> r.path("cached").asLong() >= made,
                Duration.ofSeconds(30), which + " to receive the " + made + " cached sessions by gossip");
        assertTrue(record.path("hits").asLong() + record.path("misses").asLong() == 0,
                which + " had looked sessions up before it held them: " + record);
    }

    private static void assertResumes(int port, Path tls12, Path tls13, String which) {
        assertTrue(SClient.resumes(port, "localhost", SClient.Kind.TLS12_SESSION_ID, tls12),
                "a TLS 1.2 session-ID session made before did not resume on " + which);
        assertTrue(SClient.resumes(port, "stateful.test", SClient.Kind.TLS13_TICKET, tls13),
                "a TLS 1.3 stateful-ticket session made before did not resume on " + which);
    }
}
