package io.actortls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.ClusterPki;
import io.actortls.testkit.Cli;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cluster join, leave, down-unreachable against live node processes: a node outside the cluster joins on command,
 * a member leaves on command (and its process ends), and a killed member is removed on command instead of after
 * the split-brain resolver's 20 s.
 */
class ClusterCommandsMoveMembersInAndOutTest {
    @TempDir
    Path dir;

    @Test
    void joinsLeavesAndDownsMembersOnCommand() {
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        List<String> management = new ArrayList<>();
        try (TestCluster cluster = TestCluster.start(dir, 3, (i, hocon) -> {
            management.add(hocon.management());
            return hocon.vhost("localhost", cert, List.of("localhost"), List.of(), "127.0.0.1:9").render();
        })) {
            String first = management.getFirst();

            // A fourth node whose seed never answers: running, but outside the cluster until told to join.
            int outsiderPort = Tools.freePort();
            Hocon outsider = new Hocon(Tools.freePort()).cluster(outsiderPort,
                    List.of("127.0.0.1:" + Tools.freePort()), ClusterPki.stores(4));
            try (NodeProcess fourth = NodeProcess.startReady(dir,
                    outsider.vhost("localhost", cert, List.of("localhost"), List.of(), "127.0.0.1:9").render())) {
                Cli.Result join = Cli.against(outsider.management(), Hocon.MANAGEMENT_TOKEN, "cluster", "join",
                        "127.0.0.1:" + cluster.seedPort());
                assertEquals(0, join.exitCode(), join.toString());
                awaitMembers(first, view -> upCount(view) == 4, "4 members up after join");

                Cli.Result leave = Cli.against(first, Hocon.MANAGEMENT_TOKEN, "cluster", "leave", "127.0.0.1:" + outsiderPort);
                assertEquals(0, leave.exitCode(), leave.toString());
                assertEquals(0, fourth.awaitExit(Duration.ofSeconds(40)), "the node that left ends its process cleanly");
                awaitMembers(first, view -> view.get("members").size() == 3, "3 members after leave");
            }

            NodeProcess third = cluster.member(3).process();
            third.handle().destroyForcibly();
            awaitMembers(first, view -> view.get("unreachable").size() == 1, "node 3 unreachable after kill -9");
            long downed = System.nanoTime();
            Cli.Result down = Cli.against(first, Hocon.MANAGEMENT_TOKEN, "cluster", "down-unreachable", "--json");
            assertEquals(0, down.exitCode(), down.toString());
            assertEquals(1, down.json().get("downed").size(), down.out());
            awaitMembers(first, view -> view.get("members").size() == 2, "2 members after down-unreachable");
            long removedMs = (System.nanoTime() - downed) / 1_000_000;
            assertTrue(removedMs < 15_000, "removed " + removedMs + " ms after the command, before SBR's 20 s");
        }
    }

    private static int upCount(JsonNode view) {
        int up = 0;
        for (JsonNode m : view.get("members")) if (m.get("status").asText().equals("Up")) up++;
        return up;
    }

    private static void awaitMembers(String node, Predicate<JsonNode> condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        Cli.Result last = null;
        while (System.nanoTime() < deadline) {
            last = Cli.against(node, Hocon.MANAGEMENT_TOKEN, "cluster", "show", "--json");
            if (last.exitCode() == 0 && condition.test(last.json())) return;
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("not reached within 40 s: " + what + "; last: " + last);
    }
}
