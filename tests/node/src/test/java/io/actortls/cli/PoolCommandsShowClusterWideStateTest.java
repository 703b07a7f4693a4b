package io.actortls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.Cli;
import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.HoldingClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code pools list|show} through any node show the whole cluster's state; refusals and usage errors exit 1 and 2. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PoolCommandsShowClusterWideStateTest {
    @TempDir
    static Path dir;
    private TestCluster cluster;
    private Path ca;
    private final List<DemoBackendProcess> backends = new ArrayList<>();
    private final List<String> management = new ArrayList<>();

    @BeforeAll
    void startCluster() {
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("pools", TestPki.KeyType.EC_P256, "demo.test", "edge.test");
        ca = pki.caCertificate();
        for (int i = 1; i <= 2; i++) backends.add(DemoBackendProcess.start("backend-" + i));
        List<String> servers = backends.stream().map(b -> b.server(1)).toList();
        cluster = TestCluster.start(dir, 3, (i, hocon) -> {
            management.add(hocon.management());
            return hocon.pooledVhost("demo", cert, List.of("demo.test"), "demo")
                    .defaultVhost("demo")
                    .pool("demo", servers, "scope = \"cluster\"", "pick-timeout = 3s")
                    .pool("edge", List.of(backends.get(1).server(3)), "scope = \"node\"", "algorithm = \"leastconn\"")
                    .render();
        });
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        backends.forEach(DemoBackendProcess::close);
    }

    @Test
    void listShowsEveryPoolWithAlgorithmScopeAndHealthyServers() {
        Cli.Result json = Cli.against(management.get(1), Hocon.MANAGEMENT_TOKEN, "pools", "list", "--json");
        assertEquals(0, json.exitCode(), json.toString());
        JsonNode pools = json.json().get("pools");
        assertEquals(2, pools.size(), json.out());
        JsonNode demo = pools.get(0); // by name
        assertEquals("demo", demo.get("pool").asText());
        assertEquals("cluster", demo.get("scope").asText());
        assertEquals(2, demo.get("servers").asInt());
        assertEquals(2, demo.get("healthy").asInt());
        assertTrue(demo.get("error").isNull(), json.out());
        JsonNode edge = pools.get(1);
        assertEquals("edge", edge.get("pool").asText());
        assertEquals("node", edge.get("scope").asText());
        assertEquals("leastconn", edge.get("algorithm").asText());

        Cli.Result table = Cli.against(management.get(2), Hocon.MANAGEMENT_TOKEN, "pools", "list");
        assertEquals(0, table.exitCode(), table.toString());
        assertTrue(table.out().lines().anyMatch(l -> l.startsWith("demo ") && l.contains(" cluster ")), table.out());
        assertTrue(table.out().lines().anyMatch(l -> l.startsWith("edge ") && l.contains(" node ")), table.out());
    }

    @Test
    void showCountsConnectionsHeldThroughEveryNodeByServerAndNode() {
        List<HoldingClient> held = new ArrayList<>();
        try {
            List<String> reached = new ArrayList<>();
            for (int node : List.of(1, 3, 3)) {
                HoldingClient client = HoldingClient.open(ca, "demo.test", cluster.member(node).tlsPort(), 30);
                held.add(client);
                reached.add(client.awaitServer(Duration.ofSeconds(10)));
            }
            Cli.Result json = Cli.against(management.get(1), Hocon.MANAGEMENT_TOKEN, "pools", "show", "demo", "--json");
            assertEquals(0, json.exitCode(), json.toString());
            JsonNode view = json.json();
            assertEquals("demo", view.get("pool").asText());
            assertEquals(0, view.get("queue").get("waiting").asInt());
            assertTrue(view.get("unanswered").isEmpty(), json.out());
            int total = 0;
            Map<String, Integer> byNode = new java.util.TreeMap<>();
            for (JsonNode s : view.get("servers")) {
                assertEquals("enabled", s.get("admin").asText(), s.toString());
                assertEquals("up", s.get("health").asText(), s.toString());
                assertEquals(1, s.get("weight").asInt(), s.toString());
                assertEquals(1.0, s.get("effectiveWeight").asDouble(), s.toString());
                String name = s.get("name").asText();
                assertEquals(reached.stream().filter(name::equals).count(), s.get("connections").asLong(), json.out());
                total += s.get("connections").asInt();
                s.get("connectionsByNode").properties().forEach(e -> byNode.merge(e.getKey(), e.getValue().asInt(), Integer::sum));
            }
            assertEquals(3, total, json.out());
            assertEquals(Map.of(node(1), 1, node(3), 2), byNode, json.out());

            Cli.Result list = Cli.against(management.get(2), Hocon.MANAGEMENT_TOKEN, "pools", "list", "--json");
            assertEquals(3, list.json().get("pools").get(0).get("connections").asInt(), list.out());

            Cli.Result table = Cli.against(management.get(2), Hocon.MANAGEMENT_TOKEN, "pools", "show", "demo");
            assertEquals(0, table.exitCode(), table.toString());
            assertTrue(table.out().contains("Pool demo: roundrobin, scope cluster"), table.out());
            assertTrue(table.out().lines().anyMatch(l -> l.startsWith("backend-1 ") && l.contains(backends.get(0).address())
                    && l.contains(" enabled ") && l.contains(" up ")), table.out());
            assertTrue(table.out().contains(node(3) + "="), table.out());
        } finally {
            held.forEach(HoldingClient::close);
        }
    }

    @Test
    void unknownPoolsAndServersAndRefusedChangesExitOneAndBadArgumentsExitTwo() {
        String node = management.get(0);
        expectRefused(Cli.against(node, Hocon.MANAGEMENT_TOKEN, "pools", "show", "nope"), "no pool nope");
        expectRefused(Cli.against(node, Hocon.MANAGEMENT_TOKEN, "server", "remove", "demo", "backend-9"), "has no server backend-9");
        expectRefused(Cli.against(node, Hocon.MANAGEMENT_TOKEN, "server", "enable", "nope", "backend-1"), "no pool nope");
        expectRefused(Cli.against(node, Hocon.MANAGEMENT_TOKEN, "server", "add", "demo", "backend-1", "127.0.0.1:1"),
                "already has backend-1");
        Cli.Result wrongToken = Cli.against(node, "not-the-token-at-all-0000", "server", "drain", "demo", "backend-1");
        expectRefused(wrongToken, "401");

        Cli.Result badWeight = Cli.against(node, Hocon.MANAGEMENT_TOKEN, "server", "weight", "demo", "backend-1", "abc");
        assertEquals(2, badWeight.exitCode(), badWeight.toString());
        assertTrue(badWeight.err().contains("Usage: actortls server weight"), badWeight.err());
        // Values the CLI can judge itself (the weight's range, an address's port) never reach the node.
        Cli.Result zeroWeight = Cli.against(node, Hocon.MANAGEMENT_TOKEN, "server", "weight", "demo", "backend-1", "0");
        assertEquals(2, zeroWeight.exitCode(), zeroWeight.toString());
        assertTrue(zeroWeight.err().contains("must be 1-1000, not 0"), zeroWeight.err());
        Cli.Result noPort = Cli.against(node, Hocon.MANAGEMENT_TOKEN, "server", "add", "demo", "backend-7", "no-port");
        assertEquals(2, noPort.exitCode(), noPort.toString());
        assertTrue(noPort.err().contains("must be host:port"), noPort.err());
        Cli.Result missing = Cli.against(node, Hocon.MANAGEMENT_TOKEN, "pools", "show");
        assertEquals(2, missing.exitCode(), missing.toString());
        assertTrue(missing.err().contains("Usage: actortls pools show"), missing.err());

        // Nothing above changed anything.
        Cli.Result show = Cli.against(node, Hocon.MANAGEMENT_TOKEN, "pools", "show", "demo", "--json");
        for (JsonNode s : show.json().get("servers")) {
            assertEquals("enabled", s.get("admin").asText(), show.out());
            assertEquals(1, s.get("weight").asInt(), show.out());
        }
        assertEquals(2, show.json().get("servers").size(), show.out());
    }

    private static void expectRefused(Cli.Result result, String message) {
        assertEquals(1, result.exitCode(), result.toString());
        assertTrue(result.err().contains(message), result.toString());
    }

    private String node(int i) {
        return "127.0.0.1:" + cluster.member(i).clusterPort();
    }
}
