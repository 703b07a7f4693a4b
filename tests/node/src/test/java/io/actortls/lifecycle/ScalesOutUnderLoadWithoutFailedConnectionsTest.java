package io.actortls.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.HoldingClient;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.TlsLoad;
import io.actortls.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scale-out and scale-in under load. tlsload runs against the three nodes of a cluster while a fourth joins: it
 * receives the session cache (a session made before it existed resumes on it) and serves connections of its own,
 * and tlsload sees no failed connection. Then the seed node (the oldest: it hosts the sharding coordinator and the
 * ticket-key singleton) gets SIGTERM while tlsload runs against the other three and two held responses run on it:
 * tlsload sees no failed connection, the seed refuses new clients at once, its held responses complete, it exits 0
 * within the drain deadline plus a margin, and its session resumes on the nodes that remain.
 */
class ScalesOutUnderLoadWithoutFailedConnectionsTest {
    private static final Duration DRAIN_DEADLINE = Duration.ofSeconds(10);
    private static final int CONNS = 2;

    @TempDir
    Path dir;
    private final List<DemoBackendProcess> backends = new ArrayList<>();
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        backends.forEach(DemoBackendProcess::close);
    }

    @Test
    void aFourthNodeJoinsUnderLoadAndTheSeedDrainsWithoutAFailedConnection() throws Exception {
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        for (int i = 1; i <= 2; i++) backends.add(DemoBackendProcess.start("backend-" + i));
        BiFunction<Integer, Hocon, String> config = (i, hocon) -> hocon
                .pooledVhost("localhost", cert, List.of("localhost"), "demo")
                .pool("demo", backends.stream().map(b -> b.server(1)).toList())
                .with("shutdown.drain-deadline = " + DRAIN_DEADLINE.toSeconds() + "s")
                .with("sessions.stats-interval = 1s")
                // Five JVMs and the load tool share two cores here; production's 150 ms would measure the machine.
                .with("sessions.fetch-timeout = 2s")
                .render();
        cluster = TestCluster.start(dir, 3, config);
        Path ca = pki.caCertificate();
        Path session = Files.createTempFile(dir, "tls12-", ".pem");
        SClient.newSession(cluster.member(1).tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, session, "/");

        // Scale out: a fourth node joins while tlsload runs against the three.
        TlsLoad.Report outReport;
        long joinMs;
        try (TlsLoad load = TlsLoad.start(ca, "localhost", "/", CONNS, 120,
                List.of(cluster.member(1).tlsPort(), cluster.member(2).tlsPort(), cluster.member(3).tlsPort()))) {
            long adding = System.nanoTime();
            NodeProcess fourth = cluster.add(dir, 4, cluster.seedPort(), config).process();
            fourth.awaitMembersUp(4, Duration.ofSeconds(60));
            joinMs = (System.nanoTime() - adding) / 1_000_000;
            fourth.awaitRecord("session cache", 0, r -> r.path("cached").asLong() >= 1, Duration.ofSeconds(30),
                    "the fourth node to receive the session cache");
            assertTrue(SClient.resumes(cluster.member(4).tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, session),
                    "a session made before the fourth node joined did not resume on it");
            TlsLoad.Report onFourth = TlsLoad.run(ca, "localhost", "/", CONNS, 40, 60, List.of(cluster.member(4).tlsPort()));
            assertEquals(0, onFourth.failed(), "tlsload against the fourth node: " + onFourth.errors() + "\n" + onFourth.stderr());
            assertEquals(40, onFourth.transfers(), onFourth.json().toString());
            fourth.awaitCloses(c -> c.path("backend_bytes_in").asLong() > 0, 40, Duration.ofSeconds(10));
            outReport = load.stop();
        }
        System.out.printf("scale-out: 4th node up after %d ms; tlsload on nodes 1-3: %d handshakes, %d GETs, errors %s%n",
                joinMs, outReport.handshakes(), outReport.transfers(), outReport.errors());
        assertEquals(0, outReport.failed(), "failed connections while the fourth node joined: " + outReport.errors()
                + "\n" + outReport.stderr());
        assertTrue(outReport.transfers() > 0, outReport.json().toString());

        // Scale in: SIGTERM the seed, with tlsload on the others and two held responses on it.
        NodeProcess seed = cluster.member(1).process();
        int seedPort = cluster.member(1).tlsPort();
        TlsLoad.Report inReport;
        long refusedMs;
        long exitMs;
        List<HoldingClient> held = new ArrayList<>();
        try (TlsLoad load = TlsLoad.start(ca, "localhost", "/", CONNS, 120,
                List.of(cluster.member(2).tlsPort(), cluster.member(3).tlsPort(), cluster.member(4).tlsPort()))) {
            for (int i = 0; i < 2; i++) held.add(HoldingClient.open(ca, "localhost", seedPort, 3));
            for (HoldingClient h : held) assertTrue(h.awaitServer(Duration.ofSeconds(10)).startsWith("backend-"));
            long signalled = System.nanoTime();
            seed.handle().destroy(); // SIGTERM
            Tools.awaitNotListening(seedPort, Duration.ofSeconds(3));
            refusedMs = (System.nanoTime() - signalled) / 1_000_000;
            for (HoldingClient h : held)
                assertEquals(0, h.awaitEnd(DRAIN_DEADLINE), "a held response on the seed did not complete: " + h.stderrText());
            assertEquals(0, seed.awaitExit(DRAIN_DEADLINE.plus(Duration.ofSeconds(20))), seed.output());
            exitMs = (System.nanoTime() - signalled) / 1_000_000;
            String seedAddress = "127.0.0.1:" + cluster.seedPort();
            cluster.member(2).process().awaitLog(l -> l.contains("MemberRemoved") && l.contains(seedAddress),
                    Duration.ofSeconds(30), "node 2 to see the seed removed");
            // Keep the load on a little after the hand-over, so connections that need the moved pool entity count.
            Thread.sleep(2000);
            inReport = load.stop();
        } finally {
            held.forEach(HoldingClient::close);
        }
        System.out.printf("scale-in: seed refused new clients after %d ms, exited 0 after %d ms; tlsload on nodes 2-4: "
                + "%d handshakes, %d GETs, errors %s%n", refusedMs, exitMs, inReport.handshakes(), inReport.transfers(),
                inReport.errors());
        assertEquals(0, inReport.failed(), "failed connections while the seed drained: " + inReport.errors()
                + "\n" + inReport.stderr());
        assertTrue(inReport.transfers() > 0, inReport.json().toString());
        assertTrue(SClient.resumes(cluster.member(2).tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, session),
                "the session made on the seed did not resume on node 2 after the seed left");
    }
}
