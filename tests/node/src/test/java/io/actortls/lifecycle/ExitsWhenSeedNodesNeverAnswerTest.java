package io.actortls.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.ClusterPki;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose seed node is not running keeps trying for cluster.join-timeout, then exits with code 1 and a message
 * that names the seed and the timeout.
 */
class ExitsWhenSeedNodesNeverAnswerTest {
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    @Test
    void exitsWithCodeOneAndAClearMessageAfterTheJoinTimeout() {
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        String seed = "127.0.0.1:" + Tools.freePort(); // nothing listens there
        String config = new Hocon(Tools.freePort())
                .cluster(Tools.freePort(), List.of(seed), ClusterPki.stores(2))
                .vhost("localhost", cert, List.of("localhost"), List.of(), "127.0.0.1:9")
                .with("cluster.join-timeout = " + JOIN_TIMEOUT.toSeconds() + "s")
                .render();
        long started = System.nanoTime();
        try (NodeProcess node = NodeProcess.start(dir, config)) {
            int exit = node.awaitExit(Duration.ofSeconds(40));
            long ms = (System.nanoTime() - started) / 1_000_000;
            System.out.printf("exited %d ms after start with code %d%n", ms, exit);
            assertEquals(1, exit, node.output());
            assertTrue(node.stderrText().contains("actortls: could not join the cluster through " + seed + " within "
                    + JOIN_TIMEOUT.toSeconds() + "s; is a seed node running?"), node.stderrText());
            assertTrue(ms >= JOIN_TIMEOUT.toMillis(), "exited before the join timeout: " + ms + " ms");
        }
    }
}
