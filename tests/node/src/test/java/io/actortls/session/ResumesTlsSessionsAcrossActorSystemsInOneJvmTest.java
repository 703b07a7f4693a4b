package io.actortls.session;

import io.actortls.node.NodeConfig;
import io.actortls.node.RunningNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.ClusterPki;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.RunningNodes;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The cross-node contract with three nodes as three ActorSystems in this JVM: each with its own OpenSSL
 * contexts, session mirror and ticket-key ring, sharing only the process (and the native callbacks).
 */
class ResumesTlsSessionsAcrossActorSystemsInOneJvmTest extends CrossNodeResumptionContract {
    private Path dir;
    private BackendProcess backend;
    private final List<RunningNode> nodes = new ArrayList<>();
    private final List<Integer> tlsPorts = new ArrayList<>();

    @BeforeAll
    void startNodes() throws Exception {
        dir = Files.createTempDirectory("resumes-in-one-jvm");
        TestPki.Cert[] certs = certificates(new TestPki(dir));
        backend = BackendProcess.start();
        int seedPort = Tools.freePort();
        for (int i = 1; i <= 3; i++) {
            int tlsPort = Tools.freePort();
            String hocon = new Hocon(tlsPort)
                    .cluster(i == 1 ? seedPort : Tools.freePort(), List.of("127.0.0.1:" + seedPort), ClusterPki.stores(i))
                    .vhost("localhost", certs[0], List.of("localhost"), List.of(), backend.address())
                    .vhost("stateful", certs[1], List.of("stateful.test"), List.of(), backend.address())
                    .defaultVhost("localhost")
                    .with(VHOSTS_EXTRA)
                    .with("sessions.fetch-timeout = 2s")
                    .render();
            Path file = Files.writeString(dir.resolve("node-" + i + ".hocon"), hocon);
            nodes.add(RunningNode.start(NodeConfig.load(file)));
            tlsPorts.add(tlsPort);
        }
        RunningNodes.awaitMembersUp(nodes, Duration.ofSeconds(60));
        // Tickets resume on another node once it holds the cluster's ticket keys, which arrive by gossip just
        // after the cluster forms; the contract is about sessions, not about that first second.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (nodes.stream().map(n -> n.sessions().ticketKeyState().generation()).distinct().count() != 1
                || nodes.getFirst().sessions().ticketKeyState().generation() < 1) {
            if (System.nanoTime() > deadline) throw new AssertionError("the nodes did not install the same ticket keys");
            Thread.sleep(50);
        }
    }

    @AfterAll
    void stopNodes() throws InterruptedException {
        RunningNodes.stopAll(nodes);
        if (backend != null) backend.close();
    }

    @Override
    int tlsPort(int index) {
        return tlsPorts.get(index - 1);
    }

    @Override
    Path dir() {
        return dir;
    }
}
