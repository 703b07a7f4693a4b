package io.actortls.session;

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

/** The cross-node contract with three separate node processes, plus the remote-resumption count. */
class ResumesTlsSessionsOnAnotherNodeTest extends CrossNodeResumptionContract {
    private Path dir;
    private BackendProcess backend;
    private TestCluster cluster;

    @BeforeAll
    void startCluster() throws Exception {
        dir = Files.createTempDirectory("resumes-on-another-node");
        TestPki.Cert[] certs = certificates(new TestPki(dir));
        backend = BackendProcess.start();
        cluster = TestCluster.start(dir, 3, (i, hocon) -> hocon
                .vhost("localhost", certs[0], List.of("localhost"), List.of(), backend.address())
                .vhost("stateful", certs[1], List.of("stateful.test"), List.of(), backend.address())
                .defaultVhost("localhost")
                .with(VHOSTS_EXTRA)
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

    @Override
    int tlsPort(int index) {
        return cluster.member(index).tlsPort();
    }

    @Override
    Path dir() {
        return dir;
    }

    @Test
    void statefulTls13ResumptionOnAnotherNodeIsCountedAsRemote() throws Exception {
        Path session = Files.createTempFile(dir, "session-", ".pem");
        SClient.newSession(tlsPort(1), "stateful.test", SClient.Kind.TLS13_TICKET, session);
        var node2 = cluster.member(2).process();
        assertTrue(SClient.resumes(tlsPort(2), "stateful.test", SClient.Kind.TLS13_TICKET, session),
                () -> "not resumed on node 2; its last statistics: " + node2.records("session cache").getLast());
        node2.awaitLog(line -> line.contains("\"resumed_remote\"") && !line.contains("\"resumed_remote\":0"),
                Duration.ofSeconds(10), "node 2 to count a resumption of a session made on node 1");
    }
}
