package io.actortls.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.ClusterPki;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cluster channel is mutually authenticated TLS under the cluster CA: a node whose key store comes from another CA,
 * seeded with node 1, never becomes a member, and receives none of the cluster's sessions.
 */
class NodeWithoutClusterCertificateCannotJoinTest {
    private static final Duration OBSERVED = Duration.ofSeconds(20);

    private BackendProcess backend;
    private TestCluster cluster;
    private NodeProcess foreign;

    @AfterEach
    void stop() {
        if (foreign != null) foreign.close();
        if (cluster != null) cluster.close();
        if (backend != null) backend.close();
    }

    @Test
    void nodeWithACertificateOfAnotherCaNeverJoinsAndGetsNoSessions() throws Exception {
        Path dir = Files.createTempDirectory("foreign-node");
        TestPki pki = new TestPki(dir);
        TestPki.Cert localhost = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        backend = BackendProcess.start();
        BiFunction<Integer, Hocon, String> config = (i, hocon) -> hocon
                .vhost("localhost", localhost, List.of("localhost"), List.of(), backend.address())
                .defaultVhost("localhost")
                .with("sessions.stats-interval = 1s")
                .with("sessions.fetch-timeout = 2s")
                .render();
        cluster = TestCluster.start(dir, 1, config);
        NodeProcess node1 = cluster.member(1).process();
        Path session = Files.createTempFile(dir, "session-", ".pem");
        SClient.newSession(cluster.member(1).tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, session);

        int foreignTls = Tools.freePort();
        int foreignCluster = Tools.freePort();
        foreign = NodeProcess.startReady(dir, config.apply(0, new Hocon(foreignTls)
                .cluster(foreignCluster, List.of("127.0.0.1:" + cluster.seedPort()), ClusterPki.foreignStores())));
        String foreignAddress = "127.0.0.1:" + foreignCluster;

        long end = System.nanoTime() + OBSERVED.toNanos();
        while (System.nanoTime() < end) {
            assertTrue(node1.records("cluster membership").stream().noneMatch(r -> r.path("message").asText().contains(foreignAddress)),
                    () -> "node 1 let the node of another CA in: " + node1.records("cluster membership"));
            assertFalse(foreign.output().contains("members up: 2"), "the node of another CA reached \"members up: 2\"");
            assertTrue(foreign.isAlive(), "the node of another CA exited:\n" + foreign.output());
            Thread.sleep(250);
        }
        // It did try, and was refused by the cluster channel's TLS.
        assertTrue(foreign.output().contains("SSLHandshakeException"), "the node of another CA never failed a TLS handshake");
        assertTrue(foreign.output().contains("Couldn't join seed nodes"), "the node of another CA never tried to join");
        assertEquals(List.of("members up: 1"), node1.records("cluster membership").stream()
                .map(r -> r.path("message").asText().replaceAll(".*; ", "")).distinct().toList(),
                "node 1's membership changed");
        assertTrue(foreign.records("cluster membership").isEmpty(),
                "the node of another CA logged membership changes: " + foreign.records("cluster membership"));

        assertTrue(foreign.records("session cache").stream().allMatch(r -> r.path("cached").asLong() == 0),
                "the node of another CA cached sessions: " + foreign.records("session cache").getLast());
        assertFalse(SClient.resumes(foreignTls, "localhost", SClient.Kind.TLS12_SESSION_ID, session),
                "a session of node 1 resumed on the node of another CA");
        assertTrue(foreign.records("session cache").stream().allMatch(r -> r.path("fetch_hits").asLong() == 0),
                "the node of another CA fetched a session: " + foreign.records("session cache").getLast());
        assertTrue(SClient.resumes(cluster.member(1).tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, session),
                "the session no longer resumes on node 1, where it was made");
    }
}
