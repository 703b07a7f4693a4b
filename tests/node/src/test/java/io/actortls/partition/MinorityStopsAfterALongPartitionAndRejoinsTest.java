package io.actortls.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.PartitionableCluster;
import io.actortls.testkit.Run;
import io.actortls.testkit.SClient;
import io.actortls.testkit.SClient.Kind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A partition that lasts: node 3's host stays unplugged from the cluster link. The split-brain resolver
 * (keep-majority, stable-after 20 s) decides: node 3, the minority, downs itself: it stops accepting clients and
 * its process exits with status 1, saying why, for its supervisor to start it again. Nodes 1 and 2 remove it and
 * serve on, resuming the sessions node 3 made before. After the link is back, node 3 started again joins and
 * resumes the sessions the majority made while it was away.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MinorityStopsAfterALongPartitionAndRejoinsTest {
    private static final int PORT = PartitionableCluster.TLS_PORT;
    /** Failure detection (a few seconds), stable-after (20 s), the minority's drain and shutdown: with slack. */
    private static final Duration DECISION = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    private PartitionableCluster cluster;

    @BeforeAll
    void start() {
        cluster = PartitionableCluster.start(dir, 3);
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
    }

    @Test
    void theMinorityDownsItselfTheMajorityServesOnAndTheMinorityRejoinsAfterHealing() {
        Path madeOnMinority = cluster.newSession(3, "localhost", Kind.TLS12_SESSION_ID, "before-id.pem");
        Path madeOnMinorityStateful = cluster.newSession(3, "stateful.test", Kind.TLS13_TICKET, "before-stateful.pem");
        cluster.await(1, "/sessions/lookup?prefix=" + SClient.sessionId(madeOnMinority),
                l -> l.path("sessions").size() == 1 && l.path("sessions").get(0).path("heldBy").size() == 3,
                Duration.ofSeconds(10), "node 3's session replicated before the partition");

        long partitioned = System.nanoTime();
        cluster.unplug(3);
        int status = cluster.node(3).awaitExit(DECISION);
        Duration minorityGone = Duration.ofNanos(System.nanoTime() - partitioned);
        assertEquals(1, status, cluster.node(3).output());
        assertTrue(cluster.node(3).output().contains("the cluster downed this node"), cluster.node(3).output());
        Run refused = Run.of(concat(cluster.on(3), SClient.command(PORT, "-servername", "localhost")), new byte[0], Duration.ofSeconds(10));
        assertTrue(refused.all().contains("Connection refused"), "node 3 accepts no client: " + refused.all());

        cluster.await(1, "/cluster", c -> c.path("members").size() == 2 && c.path("unreachable").isEmpty(), DECISION,
                "node 3 removed");
        Duration majorityDecided = Duration.ofNanos(System.nanoTime() - partitioned);
        System.out.printf("long partition: node 3 exited after %d ms, nodes 1 and 2 had removed it after %d ms%n",
                minorityGone.toMillis(), majorityDecided.toMillis());
        for (int n = 1; n <= 2; n++) {
            assertTrue(cluster.resumes(n, "localhost", Kind.TLS12_SESSION_ID, madeOnMinority), "node " + n + ": node 3's session ID");
            assertTrue(cluster.resumes(n, "stateful.test", Kind.TLS13_TICKET, madeOnMinorityStateful), "node " + n + ": node 3's stateful ticket");
        }
        Path madeWhileApart = cluster.newSession(2, "localhost", Kind.TLS12_SESSION_ID, "apart-id.pem");
        Path madeWhileApartStateful = cluster.newSession(2, "stateful.test", Kind.TLS13_TICKET, "apart-stateful.pem");

        cluster.plug(3);
        long restarted = System.nanoTime();
        cluster.startNode(3).awaitMembersUp(3, Duration.ofSeconds(60));
        for (int n = 1; n <= 3; n++)
            cluster.await(n, "/cluster", c -> c.path("members").size() == 3 && c.path("unreachable").isEmpty(), Duration.ofSeconds(30),
                    "3 members, all reachable");
        System.out.printf("long partition: node 3 started again was a member after %d ms%n",
                Duration.ofNanos(System.nanoTime() - restarted).toMillis());
        cluster.await(3, "/sessions/lookup?prefix=" + SClient.sessionId(madeWhileApart),
                l -> l.path("sessions").size() == 1 && l.path("sessions").get(0).path("heldBy").size() == 3,
                Duration.ofSeconds(30), "the session made while apart held by all 3");
        assertTrue(cluster.resumes(3, "localhost", Kind.TLS12_SESSION_ID, madeWhileApart), "node 3: the majority's session ID");
        assertTrue(cluster.resumes(3, "stateful.test", Kind.TLS13_TICKET, madeWhileApartStateful), "node 3: the majority's stateful ticket");
        assertTrue(cluster.resumes(3, "localhost", Kind.TLS12_SESSION_ID, madeOnMinority), "node 3: its own old session, from the others");
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
