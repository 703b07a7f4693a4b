package io.actortls.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Curl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Smooth weighted round robin is one decision for the whole cluster: connections sprayed over three nodes
 * at once reach servers of weight 1, 2 and 3 in the shares 1/6, 2/6 and 3/6.
 */
class SharesConnectionsByWeightAcrossNodesTest {
    private static final int CONNECTIONS_PER_NODE = 1_000;

    @Test
    void sharesFollowWeightsOverThreeThousandConnections() throws Exception {
        Path dir = Files.createTempDirectory("weights");
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        List<DemoBackendProcess> backends = new ArrayList<>();
        try {
            for (int i = 1; i <= 3; i++) backends.add(DemoBackendProcess.start("backend-" + i));
            try (TestCluster cluster = TestCluster.start(dir, 3, (i, hocon) -> hocon
                    .pooledVhost("localhost", cert, List.of("localhost"), "demo")
                    .pool("demo", List.of(backends.get(0).server(1), backends.get(1).server(2), backends.get(2).server(3)))
                    .render())) {
                List<CompletableFuture<List<String>>> sprays = new ArrayList<>();
                for (int node = 1; node <= 3; node++) {
                    int port = cluster.member(node).tlsPort();
                    sprays.add(CompletableFuture.supplyAsync(() ->
                            Curl.onNewConnections(pki.caCertificate(), "localhost", port, "/", CONNECTIONS_PER_NODE)));
                }
                Map<String, Long> byServer = new TreeMap<>(sprays.stream().flatMap(s -> s.join().stream())
                        .collect(Collectors.groupingBy(line -> line.replace("Hello from ", ""), Collectors.counting())));
                long total = byServer.values().stream().mapToLong(Long::longValue).sum();
                assertEquals(3L * CONNECTIONS_PER_NODE, total, "responses: " + byServer);
                for (int i = 1; i <= 3; i++) {
                    double share = byServer.getOrDefault("backend-" + i, 0L) / (double) total;
                    double expected = i / 6.0;
                    int server = i;
                    assertTrue(Math.abs(share - expected) <= 0.05 * expected,
                            () -> "backend-" + server + " got " + share + " of connections, weight share " + expected + ": " + byServer);
                }
                // Every node's connections were counted by the one pool entity.
                long closes = 0;
                for (int node = 1; node <= 3; node++) closes += cluster.member(node).process().closes().size();
                assertEquals(total, closes, "one close record per connection");
            }
        } finally {
            backends.forEach(DemoBackendProcess::close);
        }
    }
}
