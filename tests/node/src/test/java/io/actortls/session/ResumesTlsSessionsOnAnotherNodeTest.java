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
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Three node processes in one cluster. A session made on node 1 with the real {@code openssl s_client -sess_out}
 * resumes on nodes 2 and 3 at once ({@code -sess_in}, no pause in between), for each of the four kinds:
 * TLS 1.2 session ID, TLS 1.2 ticket, TLS 1.3 stateful ticket (vhost "stateful"), TLS 1.3 stateless ticket.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResumesTlsSessionsOnAnotherNodeTest {
    private Path dir;
    private BackendProcess backend;
    private TestCluster cluster;

    @BeforeAll
    void startCluster() throws Exception {
        dir = Files.createTempDirectory("resumes-on-another-node");
        TestPki pki = new TestPki(dir);
        TestPki.Cert localhost = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        TestPki.Cert stateful = pki.issue("stateful", TestPki.KeyType.EC_P256, "stateful.test");
        backend = BackendProcess.start();
        cluster = TestCluster.start(dir, 3, (i, hocon) -> hocon
                .vhost("localhost", localhost, List.of("localhost"), List.of(), backend.address())
                .vhost("stateful", stateful, List.of("stateful.test"), List.of(), backend.address())
                .defaultVhost("localhost")
                .with("vhosts.stateful.resumption = \"stateful\"")
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

    @ParameterizedTest(name = "{0} via {1}")
    @CsvSource({
            "TLS12_SESSION_ID, localhost",
            "TLS12_TICKET, localhost",
            "TLS13_TICKET, stateful.test",
            "TLS13_TICKET, localhost"})
    void sessionFromNodeOneResumesOnEveryNodeImmediately(SClient.Kind kind, String serverName) throws Exception {
        Path session = Files.createTempFile(dir, "session-", ".pem");
        SClient.newSession(cluster.member(1).tlsPort(), serverName, kind, session);
        for (int node : new int[] {2, 3, 1})
            assertTrue(SClient.resumes(cluster.member(node).tlsPort(), serverName, kind, session),
                    kind + " session from node 1 did not resume on node " + node);
    }

    @Test
    void statefulTls13ResumptionOnAnotherNodeIsCountedAsRemote() throws Exception {
        Path session = Files.createTempFile(dir, "session-", ".pem");
        SClient.newSession(cluster.member(1).tlsPort(), "stateful.test", SClient.Kind.TLS13_TICKET, session);
        var node2 = cluster.member(2).process();
        assertTrue(SClient.resumes(cluster.member(2).tlsPort(), "stateful.test", SClient.Kind.TLS13_TICKET, session),
                () -> "not resumed on node 2; its last statistics: " + node2.records("session cache").getLast());
        node2.awaitLog(line -> line.contains("\"resumed_remote\"") && !line.contains("\"resumed_remote\":0"),
                Duration.ofSeconds(10), "node 2 to count a resumption of a session made on node 1");
    }

    @Test
    void sessionNeverResumesUnderAnotherVirtualHost() throws Exception {
        Path session = Files.createTempFile(dir, "session-", ".pem");
        SClient.newSession(cluster.member(1).tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, session);
        assertTrue(SClient.resumes(cluster.member(2).tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, session));
        assertFalse(SClient.resumes(cluster.member(2).tlsPort(), "stateful.test", SClient.Kind.TLS12_SESSION_ID, session),
                "a session of vhost localhost resumed under vhost stateful");

        Path stateful = Files.createTempFile(dir, "session-", ".pem");
        SClient.newSession(cluster.member(1).tlsPort(), "stateful.test", SClient.Kind.TLS13_TICKET, stateful);
        assertFalse(SClient.resumes(cluster.member(3).tlsPort(), "localhost", SClient.Kind.TLS13_TICKET, stateful),
                "a session of vhost stateful resumed under vhost localhost");
    }
}
