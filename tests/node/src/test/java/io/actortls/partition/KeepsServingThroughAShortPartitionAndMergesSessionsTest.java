package io.actortls.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.PartitionableCluster;
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
 * A partition shorter than the split-brain resolver's stable-after (20 s): node 3's host is unplugged from the
 * cluster link for a few seconds. Both sides keep serving new clients and resuming their own sessions, and each
 * side's sessions made meanwhile do not resume on the other (their caches really are apart). Once the link is back,
 * the cluster is whole again with no node downed, and the session caches have merged: sessions made on either side
 * during the partition are held by every node and resume on every node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeepsServingThroughAShortPartitionAndMergesSessionsTest {
    private static final Duration DETECTION = Duration.ofSeconds(15);
    private static final Duration HEALING = Duration.ofSeconds(30);

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
    void bothSidesServeAndTheirSessionCachesMergeAfterHealing() {
        long partitioned = System.nanoTime();
        cluster.unplug(3);
        cluster.await(1, "/cluster", c -> c.path("unreachable").size() == 1, DETECTION, "node 3 unreachable");
        cluster.await(3, "/cluster", c -> c.path("unreachable").size() == 2, DETECTION, "nodes 1 and 2 unreachable");

        // Each side makes sessions of both cache-held kinds while apart: TLS 1.2 session IDs, TLS 1.3 stateful tickets.
        Path minorityId = cluster.newSession(3, "localhost", Kind.TLS12_SESSION_ID, "minority-id.pem");
        Path minorityStateful = cluster.newSession(3, "stateful.test", Kind.TLS13_TICKET, "minority-stateful.pem");
        Path majorityId = cluster.newSession(1, "localhost", Kind.TLS12_SESSION_ID, "majority-id.pem");
        Path majorityStateful = cluster.newSession(1, "stateful.test", Kind.TLS13_TICKET, "majority-stateful.pem");
        assertTrue(cluster.resumes(3, "localhost", Kind.TLS12_SESSION_ID, minorityId), "node 3 resumes its own sessions while cut off");
        assertTrue(cluster.resumes(1, "stateful.test", Kind.TLS13_TICKET, majorityStateful), "node 1 resumes its own sessions");
        assertFalse(cluster.resumes(1, "localhost", Kind.TLS12_SESSION_ID, minorityId), "node 1 cannot know node 3's new session yet");
        assertFalse(cluster.resumes(3, "stateful.test", Kind.TLS13_TICKET, majorityStateful), "node 3 cannot know node 1's new session yet");
        Duration apart = Duration.ofNanos(System.nanoTime() - partitioned);
        assertTrue(apart.compareTo(Duration.ofSeconds(18)) < 0, "the partition must end before stable-after (20 s): " + apart);

        cluster.plug(3);
        long healing = System.nanoTime();
        for (int n = 1; n <= 3; n++)
            cluster.await(n, "/cluster", c -> c.path("unreachable").isEmpty() && upCount(c) == 3, HEALING, "3 members up, all reachable");
        System.out.printf("short partition: apart %d ms, whole again %d ms after the link came back%n",
                apart.toMillis(), Duration.ofNanos(System.nanoTime() - healing).toMillis());

        String minorityIdHex = SClient.sessionId(minorityId), majorityIdHex = SClient.sessionId(majorityId);
        for (String id : List.of(minorityIdHex, majorityIdHex)) {
            JsonNode held = cluster.await(2, "/sessions/lookup?prefix=" + id, l -> heldBy(l) == 3, HEALING, "session " + id + " held by all 3");
            System.out.println("session " + id.substring(0, 8) + "... held by " + held.path("sessions").get(0).path("heldBy"));
        }
        for (int n = 1; n <= 3; n++) {
            assertTrue(cluster.resumes(n, "localhost", Kind.TLS12_SESSION_ID, minorityId), "node " + n + ": node 3's session ID");
            assertTrue(cluster.resumes(n, "stateful.test", Kind.TLS13_TICKET, minorityStateful), "node " + n + ": node 3's stateful ticket");
            assertTrue(cluster.resumes(n, "localhost", Kind.TLS12_SESSION_ID, majorityId), "node " + n + ": node 1's session ID");
            assertTrue(cluster.resumes(n, "stateful.test", Kind.TLS13_TICKET, majorityStateful), "node " + n + ": node 1's stateful ticket");
        }
        for (int n = 1; n <= 3; n++) assertTrue(cluster.node(n).isAlive(), "node " + n + " was not downed");
    }

    private static int upCount(JsonNode cluster) {
        int up = 0;
        for (JsonNode m : cluster.path("members")) if (m.path("status").asText().equals("Up")) up++;
        return up;
    }

    private static int heldBy(JsonNode lookup) {
        JsonNode sessions = lookup.path("sessions");
        return sessions.size() == 1 ? sessions.get(0).path("heldBy").size() : 0;
    }
}
