package io.actortls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.Cli;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The cluster palette against a live 3-node cluster, one-shot and --json, through any node. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterCommandsShowAndChangeMembershipTest {
    @TempDir
    static Path dir;
    private TestCluster cluster;
    private final List<String> management = new ArrayList<>();

    @BeforeAll
    void startCluster() {
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        cluster = TestCluster.start(dir, 3, (i, hocon) -> {
            management.add(hocon.management());
            return hocon.vhost("localhost", cert, List.of("localhost"), List.of(), "127.0.0.1:9").render();
        });
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) cluster.close();
    }

    @Test
    void showListsEveryMemberUpWithLeaderAndOldestThroughAnyNode() {
        for (String node : management) {
            Cli.Result json = Cli.against(node, Hocon.MANAGEMENT_TOKEN, "cluster", "show", "--json");
            assertEquals(0, json.exitCode(), json.toString());
            JsonNode members = json.json().get("members");
            assertEquals(3, members.size(), json.out());
            for (JsonNode m : members) {
                assertEquals("Up", m.get("status").asText());
                assertTrue(m.get("address").asText().startsWith("pekko://actortls@127.0.0.1:"), m.toString());
                assertTrue(m.get("roles").isArray());
            }
            // Node 1 formed the cluster, so it is the oldest; the leader is whichever member sorts first by address.
            assertEquals("pekko://actortls@127.0.0.1:" + cluster.seedPort(), json.json().get("oldest").asText());
            assertTrue(json.out().contains(json.json().get("leader").asText()), json.out());

            Cli.Result table = Cli.against(node, Hocon.MANAGEMENT_TOKEN, "cluster", "show");
            assertEquals(0, table.exitCode(), table.toString());
            assertTrue(table.out().contains("Count: 3 members"), table.out());
            assertEquals(3, table.out().lines().filter(l -> l.contains(" Up ")).count(), table.out());
        }
    }

    @Test
    void statusShowsTheNodeItselfAndLeaderNamesTheLeader() {
        Cli.Result status = Cli.against(management.get(1), Hocon.MANAGEMENT_TOKEN, "cluster", "status", "--json");
        assertEquals(0, status.exitCode(), status.toString());
        assertEquals("127.0.0.1:" + cluster.member(2).clusterPort(), status.json().get("node").asText());

        Cli.Result leader = Cli.against(management.get(2), Hocon.MANAGEMENT_TOKEN, "cluster", "leader");
        assertEquals(0, leader.exitCode(), leader.toString());
        assertTrue(leader.out().strip().startsWith("pekko://actortls@127.0.0.1:"), leader.out());
    }

    @Test
    void tailStartsWithTheCurrentMembersAsEvents() {
        Cli.Result tail = Cli.against(management.getFirst(), Hocon.MANAGEMENT_TOKEN, "cluster", "tail", "--count", "3",
                "--for", "20", "--json");
        assertEquals(0, tail.exitCode(), tail.toString());
        assertEquals(3, tail.out().lines().filter(l -> l.contains("\"event\":\"MemberUp\"")).count(), tail.out());
    }

    @Test
    void refusalsExitOneAndUsageErrorsExitTwoWithTheUsage() {
        Cli.Result wrongToken = Cli.against(management.getFirst(), "not-the-token-at-all-0000", "cluster", "show");
        assertEquals(1, wrongToken.exitCode(), wrongToken.toString());
        assertTrue(wrongToken.err().contains("401"), wrongToken.err());

        Cli.Result noToken = Cli.run(null, Map.of("ACTORTLS_NODE", management.getFirst()), null, "cluster", "show");
        assertEquals(1, noToken.exitCode(), noToken.toString());
        assertTrue(noToken.err().contains("401"), noToken.err());

        Cli.Result unknown = Cli.against(management.getFirst(), Hocon.MANAGEMENT_TOKEN, "cluster", "explode");
        assertEquals(2, unknown.exitCode(), unknown.toString());
        assertTrue(unknown.err().contains("Usage: actortls cluster"), unknown.err());

        Cli.Result unknownTop = Cli.run(null, Map.of(), null, "frobnicate");
        assertEquals(2, unknownTop.exitCode(), unknownTop.toString());
        assertTrue(unknownTop.err().contains("Usage: actortls"), unknownTop.err());

        Cli.Result notAMember = Cli.against(management.getFirst(), Hocon.MANAGEMENT_TOKEN, "cluster", "down", "127.0.0.1:1");
        assertEquals(1, notAMember.exitCode(), notAMember.toString());
        assertTrue(notAMember.err().contains("not a member"), notAMember.err());

        Cli.Result unreachable = Cli.against("127.0.0.1:" + io.actortls.testkit.Tools.freePort(), Hocon.MANAGEMENT_TOKEN,
                "cluster", "show");
        assertEquals(1, unreachable.exitCode(), unreachable.toString());
        assertTrue(unreachable.err().contains("cannot reach"), unreachable.err());
    }
}
