package io.actortls.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.HoldingClient;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Least connections over the cluster's counts: long-lived connections opened through three nodes end up spread
 * evenly over the servers when the pool's entity counts every node's connections (scope cluster), while the very
 * same sequence through a pool where each node counts only its own (scope node) leaves a server with two more
 * connections than another.
 *
 * <p>The sequence, and why per-node counting provably fails it whatever its tie-breaking: node 1 opens six
 * connections; any least-connections picker over three equal servers puts exactly two on each. The test closes
 * node 1's two on backend-1, so node 1 holds 0/2/2. Then nodes 2 and 3 open three each, interleaved. Each of
 * them starts from no connections of its own, so it puts one on every server: 1/1/1 each. Summed over the
 * nodes that is 2/4/4, a spread of 2. The cluster-wide picker sees 0/2/2 instead: its first two go to
 * backend-1, the next three one to each, the last to any, so it ends at 4/3/3 in some order.
 */
class LeastConnectionsBalancesClusterWideCountsTest {
    private static final Duration ANSWER = Duration.ofSeconds(20);
    private static final Duration STATS = Duration.ofSeconds(15);
    private static final int HOLD_SECONDS = 120;

    private record Opened(int node, String server, HoldingClient client) {}

    @Test
    void clusterWideCountsStayWithinOneWherePerNodeCountsDrift() throws Exception {
        Path dir = Files.createTempDirectory("leastconn");
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("lc", TestPki.KeyType.EC_P256, "global.test", "pernode.test");
        List<DemoBackendProcess> backends = new ArrayList<>();
        List<Opened> opened = new ArrayList<>();
        try {
            for (int i = 1; i <= 3; i++) backends.add(DemoBackendProcess.start("backend-" + i));
            List<String> servers = backends.stream().map(b -> b.server(1)).toList();
            try (TestCluster cluster = TestCluster.start(dir, 3, (i, hocon) -> hocon
                    .pooledVhost("global", cert, List.of("global.test"), "global")
                    .pooledVhost("pernode", cert, List.of("pernode.test"), "pernode")
                    .defaultVhost("global")
                    // A generous pick-timeout: this test is about the entity's decisions, not the local fallback
                    // a node takes when the entity is slow to answer on this loaded machine.
                    .pool("global", servers, "algorithm = \"leastconn\"", "scope = \"cluster\"", "pick-timeout = 3s")
                    .pool("pernode", servers, "algorithm = \"leastconn\"", "scope = \"node\"")
                    .with("log.stats-interval = 1s")
                    .render())) {
                Path ca = pki.caCertificate();

                // --- cluster scope ---
                List<Opened> global = runSequence(cluster, ca, "global.test", "global", opened);
                Map<String, Integer> globalCounts = countByServer(global);
                assertEquals(10, global.size());
                assertTrue(spread(globalCounts) <= 1, "cluster-wide least connections: " + globalCounts);
                Map<String, Integer> perNodeTruth = Map.of(nodeKey(cluster, 1), 4, nodeKey(cluster, 2), 3, nodeKey(cluster, 3), 3);
                JsonNode agreed = awaitPoolStats(cluster, "global", stats -> activeByServer(stats).equals(globalCounts)
                        && connectionsByNode(stats).equals(perNodeTruth), "pool stats showing " + globalCounts + " and " + perNodeTruth);
                assertEquals(0, agreed.path("waiting").asInt(), "nothing queued: " + agreed);
                for (int node = 1; node <= 3; node++)
                    assertTrue(cluster.member(node).process().records("pool entity did not answer").isEmpty(),
                            "node " + node + " decided without the entity");

                // --- node scope, the same sequence ---
                List<Opened> pernode = runSequence(cluster, ca, "pernode.test", "pernode", opened);
                Map<String, Integer> pernodeCounts = countByServer(pernode);
                assertEquals(Map.of("backend-1", 2, "backend-2", 4, "backend-3", 4), pernodeCounts,
                        "per-node least connections: node 1 holds 0/2/2, nodes 2 and 3 add 1/1/1 each");
                assertTrue(spread(pernodeCounts) > 1, "per-node counting cannot balance: " + pernodeCounts);

                // No lease outlives its connection.
                opened.forEach(o -> o.client().close());
                for (int node = 1; node <= 3; node++) {
                    int n = node;
                    long mine = opened.stream().filter(o -> o.node() == n).count();
                    cluster.member(node).process().awaitCloses((int) mine, Duration.ofSeconds(20));
                }
                awaitPoolStats(cluster, "global", stats -> activeByServer(stats).values().stream().allMatch(a -> a == 0)
                        && connectionsByNode(stats).values().stream().allMatch(c -> c == 0), "pool stats showing 0 active");
            }
        } finally {
            opened.forEach(o -> o.client().close());
            backends.forEach(DemoBackendProcess::close);
        }
    }

    /**
     * Node 1 opens six, the test closes its two on backend-1, then nodes 2, 3, 2, 3, 2, 3 open one each; returns
     * the connections still open, each with the server that answered it. Every connection is opened only after
     * the previous one was answered, so each pick sees the ones before it.
     */
    private static List<Opened> runSequence(TestCluster cluster, Path ca, String host, String pool, List<Opened> all) {
        List<Opened> held = new ArrayList<>();
        for (int i = 0; i < 6; i++) held.add(open(cluster, ca, host, 1, all));
        Map<String, Integer> first = countByServer(held);
        assertEquals(Map.of("backend-1", 2, "backend-2", 2, "backend-3", 2), first, pool + ": six connections from node 1");

        int closesBefore = cluster.member(1).process().closes().size();
        List<Opened> onBackend1 = held.stream().filter(o -> o.server().equals("backend-1")).toList();
        onBackend1.forEach(o -> o.client().close());
        held.removeAll(onBackend1);
        cluster.member(1).process().awaitCloses(closesBefore + 2, Duration.ofSeconds(20));
        if (pool.equals("global"))
            // The releases travel from node 1's gateway to the entity; picks from nodes 2 and 3 must not overtake them.
            awaitPoolStats(cluster, pool, stats -> activeByServer(stats).equals(Map.of("backend-1", 0, "backend-2", 2, "backend-3", 2)),
                    "the entity to count node 1's releases");

        for (int round = 0; round < 3; round++)
            for (int node = 2; node <= 3; node++) held.add(open(cluster, ca, host, node, all));
        return held;
    }

    private static Opened open(TestCluster cluster, Path ca, String host, int node, List<Opened> all) {
        HoldingClient client = HoldingClient.open(ca, host, cluster.member(node).tlsPort(), HOLD_SECONDS);
        Opened opened = new Opened(node, client.awaitServer(ANSWER).replace("Hello from ", ""), client);
        all.add(opened);
        return opened;
    }

    private static Map<String, Integer> countByServer(List<Opened> held) {
        Map<String, Integer> counts = new TreeMap<>(Map.of("backend-1", 0, "backend-2", 0, "backend-3", 0));
        held.forEach(o -> counts.merge(o.server(), 1, Integer::sum));
        return counts;
    }

    private static int spread(Map<String, Integer> counts) {
        return Collections.max(counts.values()) - Collections.min(counts.values());
    }

    private static String nodeKey(TestCluster cluster, int node) {
        return "127.0.0.1:" + cluster.member(node).clusterPort();
    }

    private static Map<String, Integer> activeByServer(JsonNode stats) {
        Map<String, Integer> active = new TreeMap<>();
        stats.path("servers").properties().forEach(e -> active.put(e.getKey(), e.getValue().path("active").asInt()));
        return active;
    }

    /** Leases per node, keyed by "host:port" whatever form the entity logs node addresses in. */
    private static Map<String, Integer> connectionsByNode(JsonNode stats) {
        Map<String, Integer> byNode = new TreeMap<>();
        stats.path("connections_by_node").properties().forEach(e ->
                byNode.put(e.getKey().substring(e.getKey().lastIndexOf('@') + 1), e.getValue().asInt()));
        return byNode;
    }

    /** The first "pool stats" line of {@code pool}, from whichever node hosts its entity, logged from now on that passes. */
    private static JsonNode awaitPoolStats(TestCluster cluster, String pool, Predicate<JsonNode> test, String what) {
        int[] from = new int[3];
        for (int node = 1; node <= 3; node++) from[node - 1] = cluster.member(node).process().records("pool stats").size();
        long deadline = System.nanoTime() + STATS.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            for (int node = 1; node <= 3; node++) {
                List<JsonNode> records = cluster.member(node).process().records("pool stats");
                for (JsonNode r : records.subList(Math.min(from[node - 1], records.size()), records.size())) {
                    if (!pool.equals(r.path("pool").asText())) continue;
                    if (test.test(r)) return r;
                    last = r;
                }
            }
            sleep(100);
        }
        StringBuilder output = new StringBuilder();
        for (int node = 1; node <= 3; node++) {
            NodeProcess p = cluster.member(node).process();
            output.append("\n--- node ").append(node).append(" entity: ").append(p.records("pool entity started"));
        }
        throw new AssertionError("no pool stats within " + STATS + " for " + what + "; last: " + last + output);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }
}
