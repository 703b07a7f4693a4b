package io.actortls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.Cli;
import io.actortls.testkit.Curl;
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
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code connections top} lists the open client connections of every node, oldest or biggest first;
 * {@code connections reasons} counts how connections ended, per node and for the cluster.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectionCommandsShowTopConnectionsAndCloseReasonsTest {
    @TempDir
    static Path dir;
    private TestCluster cluster;
    private Path ca;
    private DemoBackendProcess backend;
    private final List<String> management = new ArrayList<>();

    @BeforeAll
    void startCluster() {
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("connections", TestPki.KeyType.EC_P256, "demo.test");
        ca = pki.caCertificate();
        backend = DemoBackendProcess.start("backend-1");
        cluster = TestCluster.start(dir, 3, (i, hocon) -> {
            management.add(hocon.management());
            return hocon.pooledVhost("demo", cert, List.of("demo.test"), "demo")
                    .defaultVhost("demo")
                    .pool("demo", List.of(backend.server(1)), "pick-timeout = 3s")
                    .render();
        });
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        if (backend != null) backend.close();
    }

    @Test
    void topListsHeldConnectionsOfEveryNodeOldestFirstOrBiggestFirst() throws InterruptedException {
        List<HoldingClient> held = new ArrayList<>();
        try {
            // Oldest through node 1, then node 2, then node 3 with a request head of 12 KB: the biggest.
            for (int node = 1; node <= 3; node++) {
                String[] options = node == 3 ? new String[] {"-H", "X-Pad: " + "x".repeat(12_000)} : new String[0];
                HoldingClient client = HoldingClient.open(ca, "demo.test", cluster.member(node).tlsPort(), 60, options);
                held.add(client);
                assertEquals("backend-1", client.awaitServer(Duration.ofSeconds(10)));
                Thread.sleep(300);
            }

            Cli.Result byAge = Cli.against(management.get(1), Hocon.MANAGEMENT_TOKEN, "connections", "top", "--json");
            assertEquals(0, byAge.exitCode(), byAge.toString());
            JsonNode top = byAge.json();
            assertEquals("age", top.get("by").asText());
            assertEquals(List.of(node(1), node(2), node(3)), nodesOf(top.get("connections")), byAge.out());
            for (JsonNode c : top.get("connections")) {
                assertEquals("demo", c.get("vhost").asText(), c.toString());
                assertEquals("demo", c.get("pool").asText(), c.toString());
                assertEquals("backend-1", c.get("server").asText(), c.toString());
                assertTrue(c.get("client").asText().startsWith("127.0.0.1:"), c.toString());
                assertTrue(c.get("bytesIn").asLong() > 0 && c.get("bytesOut").asLong() > 0, c.toString());
            }
            long[] ages = nodesAges(top.get("connections"));
            assertTrue(ages[0] > ages[1] && ages[1] > ages[2] && ages[2] >= 0, byAge.out());
            assertEquals(3, top.get("nodes").size(), byAge.out());
            top.get("nodes").forEach(n -> assertEquals(1, n.get("open").asInt(), byAge.out()));

            Cli.Result byBytes = Cli.against(management.get(2), Hocon.MANAGEMENT_TOKEN, "connections", "top", "-n", "2",
                    "--by", "bytes", "--json");
            assertEquals(0, byBytes.exitCode(), byBytes.toString());
            JsonNode biggest = byBytes.json().get("connections");
            assertEquals(2, biggest.size(), byBytes.out());
            assertEquals(node(3), biggest.get(0).get("node").asText(), byBytes.out());
            assertTrue(biggest.get(0).get("bytesIn").asLong() > 12_000, byBytes.out());
            assertTrue(biggest.get(1).get("bytesIn").asLong() < 12_000, byBytes.out());

            Cli.Result table = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "connections", "top", "--by", "age");
            assertEquals(0, table.exitCode(), table.toString());
            List<String> rows = table.out().lines().filter(l -> l.startsWith("127.0.0.1:")).toList();
            assertEquals(3, rows.size(), table.out());
            assertTrue(rows.get(0).startsWith(node(1)) && rows.get(2).startsWith(node(3)), table.out());
            assertTrue(rows.getFirst().contains("demo/backend-1"), table.out());
            assertTrue(table.out().contains("Open: 3 connections in the cluster"), table.out());

            Cli.Result badOrder = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "connections", "top", "--by", "size");
            assertEquals(2, badOrder.exitCode(), badOrder.toString());
            assertTrue(badOrder.err().contains("Usage: actortls connections top"), badOrder.err());
        } finally {
            held.forEach(HoldingClient::close);
        }
    }

    @Test
    void reasonsCountClosesPerNodeAndForTheCluster() {
        long before = closedOn(reasons(), node(3), "client-closed");
        // curl ends its side first (close_notify): the backend keeps the connection alive.
        for (int i = 0; i < 3; i++) {
            Curl.Response response = Curl.get(ca, "demo.test", cluster.member(3).tlsPort(), "/");
            assertEquals(200, response.status(), response.describe());
        }
        JsonNode answer = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            answer = reasons();
            if (closedOn(answer, node(3), "client-closed") >= before + 3) break;
        }
        assertTrue(closedOn(answer, node(3), "client-closed") >= before + 3, String.valueOf(answer));

        Map<String, Long> summed = new TreeMap<>();
        long accepted = 0;
        for (JsonNode n : answer.get("nodes")) {
            assertTrue(n.get("error").isNull(), answer.toString());
            accepted += n.get("accepted").asLong();
            n.get("closed").properties().forEach(e -> summed.merge(e.getKey(), e.getValue().asLong(), Long::sum));
        }
        Map<String, Long> total = new TreeMap<>();
        answer.get("total").get("closed").properties().forEach(e -> total.put(e.getKey(), e.getValue().asLong()));
        assertEquals(summed, total, answer.toString());
        assertEquals(accepted, answer.get("total").get("accepted").asLong(), answer.toString());

        Cli.Result table = Cli.against(management.get(2), Hocon.MANAGEMENT_TOKEN, "connections", "reasons");
        assertEquals(0, table.exitCode(), table.toString());
        assertTrue(table.out().lines().anyMatch(l -> l.startsWith("client-closed ")), table.out());
        assertTrue(table.out().lines().findFirst().orElse("").contains("cluster"), table.out());
        assertTrue(table.out().contains(node(3)), table.out());
    }

    private JsonNode reasons() {
        Cli.Result result = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "connections", "reasons", "--json");
        assertEquals(0, result.exitCode(), result.toString());
        return result.json();
    }

    private static long closedOn(JsonNode reasons, String node, String reason) {
        for (JsonNode n : reasons.get("nodes"))
            if (n.get("node").asText().equals(node)) return n.get("closed").path(reason).asLong(0);
        throw new AssertionError(node + " missing: " + reasons);
    }

    private static List<String> nodesOf(JsonNode connections) {
        List<String> out = new ArrayList<>();
        connections.forEach(c -> out.add(c.get("node").asText()));
        return out;
    }

    private static long[] nodesAges(JsonNode connections) {
        long[] ages = new long[connections.size()];
        for (int i = 0; i < ages.length; i++) ages[i] = connections.get(i).get("ageMillis").asLong();
        return ages;
    }

    private String node(int i) {
        return "127.0.0.1:" + cluster.member(i).clusterPort();
    }
}
