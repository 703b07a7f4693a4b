package io.actortls.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.Curl;
import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Source hashing is one decision for the whole cluster: forty client addresses, each connecting through all three
 * nodes, always reach the same server; when a server dies and its health check takes it down, its clients move,
 * each to one surviving server, and every other client keeps the server it had.
 */
class SourceHashKeepsClientsOnTheirServerTest {
    private static final int CLIENTS = 40;
    /** New TLS connections per client address and node, by one curl bound to that address. */
    private static final int CONNECTIONS_PER_NODE = 2;

    @Test
    void clientsKeepTheirServerAndOnlyTheDeadServersClientsMove() throws Exception {
        Path dir = Files.createTempDirectory("source-hash");
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        List<DemoBackendProcess> backends = new ArrayList<>();
        try {
            for (int i = 1; i <= 3; i++) backends.add(DemoBackendProcess.start("backend-" + i));
            try (TestCluster cluster = TestCluster.start(dir, 3, (i, hocon) -> hocon
                    .pooledVhost("localhost", cert, List.of("localhost"), "sticky")
                    .pool("sticky", backends.stream().map(b -> b.server(1)).toList(), "algorithm = \"source\"",
                            "health { check = \"tcp\", interval = 500ms, timeout = 300ms, rise = 1, fall = 2 }")
                    .with("log.stats-interval = 1s")
                    .render())) {
                Map<String, String> before = serverByClient(cluster, pki.caCertificate());
                Map<String, Integer> spread = clientsByServer(before);
                assertEquals(Set.of("backend-1", "backend-2", "backend-3"), spread.keySet(),
                        "forty addresses hash onto every server: " + spread);

                // The server with the most clients dies, so that many of them have to move.
                String killed = spread.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
                backends.get(Integer.parseInt(killed.substring("backend-".length())) - 1).kill();
                awaitServerDown(cluster, killed);

                Map<String, String> after = serverByClient(cluster, pki.caCertificate());
                List<String> remapped = new ArrayList<>();
                for (String client : before.keySet()) {
                    String was = before.get(client);
                    String now = after.get(client);
                    if (was.equals(killed)) assertFalse(now.equals(killed), client + " still reached " + killed);
                    else if (!was.equals(now)) remapped.add(client + ": " + was + " -> " + now);
                }
                assertTrue(remapped.isEmpty(), "clients of surviving servers moved: " + remapped);
            }
        } finally {
            backends.forEach(DemoBackendProcess::close);
        }
    }

    /**
     * Each client address 127.0.0.2 to 127.0.0.41 connects {@value #CONNECTIONS_PER_NODE} times through each node;
     * returns the one server each reached, failing if any address reached two.
     */
    private static Map<String, String> serverByClient(TestCluster cluster, Path ca) throws Exception {
        Map<String, Set<String>> reached = new TreeMap<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            Map<String, List<Future<List<String>>>> runs = new TreeMap<>();
            for (int n = 2; n < 2 + CLIENTS; n++) {
                String address = "127.0.0." + n;
                for (int node = 1; node <= 3; node++) {
                    int port = cluster.member(node).tlsPort();
                    runs.computeIfAbsent(address, a -> new ArrayList<>()).add(pool.submit(() -> Curl.onNewConnections(ca,
                            "localhost", port, "/", CONNECTIONS_PER_NODE, "--interface", address)));
                }
            }
            for (var run : runs.entrySet()) {
                Set<String> servers = new TreeSet<>();
                for (Future<List<String>> lines : run.getValue()) {
                    List<String> answers = lines.get();
                    assertEquals(CONNECTIONS_PER_NODE, answers.size(), run.getKey() + ": " + answers);
                    answers.forEach(line -> servers.add(line.replace("Hello from ", "")));
                }
                reached.put(run.getKey(), servers);
            }
        }
        Map<String, String> byClient = new TreeMap<>();
        reached.forEach((client, servers) -> {
            assertEquals(1, servers.size(), client + " reached " + servers + " over three nodes");
            byClient.put(client, servers.iterator().next());
        });
        return byClient;
    }

    private static Map<String, Integer> clientsByServer(Map<String, String> byClient) {
        Map<String, Integer> count = new TreeMap<>();
        byClient.values().forEach(server -> count.merge(server, 1, Integer::sum));
        return count;
    }

    /** Waits for the entity, wherever it runs, to log that its health check took {@code server} down. */
    private static void awaitServerDown(TestCluster cluster, String server) {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            for (int node = 1; node <= 3; node++)
                if (cluster.member(node).process().records("server down").stream().anyMatch(r ->
                        "sticky".equals(r.path("pool").asText()) && server.equals(r.path("server").asText()))) return;
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
        }
        throw new AssertionError("no node logged server down for " + server + " within 15 s");
    }
}
