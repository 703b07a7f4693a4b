package io.actortls.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.Cli;
import io.actortls.testkit.Curl;
import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.HoldingClient;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code actortls metrics} after real traffic on a 2-node cluster: curl's new connections, a session made on node 1
 * and resumed on node 2 (and node 1), a held connection. Every figure is compared with what the test did or with
 * the nodes' own access log.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExportsPrometheusMetricsOfRealTrafficTest {
    private static final String POOL = "demo";
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{[^}]*})?) (\\S+)$");

    @TempDir
    static Path dir;
    private final List<String> management = new ArrayList<>();
    private final List<DemoBackendProcess> backends = new ArrayList<>();
    private TestCluster cluster;
    private Path ca;

    @BeforeAll
    void startCluster() {
        TestPki pki = new TestPki(dir);
        ca = pki.caCertificate();
        TestPki.Cert localhost = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        TestPki.Cert stateful = pki.issue("stateful", TestPki.KeyType.EC_P256, "stateful.test");
        backends.add(DemoBackendProcess.start("m-1"));
        backends.add(DemoBackendProcess.start("m-2"));
        cluster = TestCluster.start(dir, 2, (i, hocon) -> {
            management.add(hocon.management());
            return hocon.pooledVhost("localhost", localhost, List.of("localhost"), POOL)
                    .pooledVhost("stateful", stateful, List.of("stateful.test"), POOL, "resumption = \"stateful\"")
                    .defaultVhost("localhost")
                    .pool(POOL, backends.stream().map(b -> b.server(1)).toList())
                    // Several cold JVMs share two cores: a fetch must not time out on the machine's account.
                    .with("sessions.fetch-timeout = 2s")
                    .render();
        });
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        backends.forEach(DemoBackendProcess::close);
    }

    @Test
    void countsHandshakesByKindClosesBytesAndPicksAsTheTrafficWas() throws Exception {
        NodeProcess node1 = cluster.member(1).process();
        NodeProcess node2 = cluster.member(2).process();
        int port1 = cluster.member(1).tlsPort(), port2 = cluster.member(2).tlsPort();
        Map<String, Double> before1 = scrape(management.get(0)), before2 = scrape(management.get(1));

        // Five full handshakes on node 1 (curl's own session reuse off: every connection is new).
        List<String> bodies = Curl.onNewConnections(ca, "localhost", port1, "/", 5, "--no-sessionid");
        assertEquals(5, bodies.stream().filter(b -> b.startsWith("Hello from")).count(), bodies.toString());
        // A session made on node 1 (one more full handshake there), resumed on node 2 (remote) and on node 1 (local).
        Path session = Files.createTempFile(dir, "session-", ".pem");
        SClient.newSession(port1, "stateful.test", SClient.Kind.TLS13_TICKET, session, "/");
        assertTrue(SClient.resumes(port2, "stateful.test", SClient.Kind.TLS13_TICKET, session), "not resumed on node 2");
        assertTrue(SClient.resumes(port1, "stateful.test", SClient.Kind.TLS13_TICKET, session), "not resumed on node 1");

        List<JsonNode> closes1 = node1.awaitCloses(7, Duration.ofSeconds(15));
        List<JsonNode> closes2 = node2.awaitCloses(1, Duration.ofSeconds(15));
        Map<String, Double> after1 = scrape(management.get(0)), after2 = scrape(management.get(1));

        assertEquals(6, delta(before1, after1, "actortls_tls_handshakes_total{kind=\"full\"}"), "full handshakes on node 1");
        assertEquals(1, delta(before1, after1, "actortls_tls_handshakes_total{kind=\"resumed_local\"}"), "resumed_local on node 1");
        assertEquals(0, delta(before1, after1, "actortls_tls_handshakes_total{kind=\"resumed_remote\"}"), "resumed_remote on node 1");
        assertEquals(0, delta(before2, after2, "actortls_tls_handshakes_total{kind=\"full\"}"), "full handshakes on node 2");
        assertEquals(1, delta(before2, after2, "actortls_tls_handshakes_total{kind=\"resumed_remote\"}"), "resumed_remote on node 2");
        // Node 2 found the session made on node 1: one hit, on a session of another node.
        assertEquals(1, delta(before2, after2, "actortls_session_cache_remote_hits_total"), "remote hits on node 2");
        // One hit; whether a fetch preceded it depends on whether gossip had brought the session to node 2 yet.
        assertEquals(1, delta(before2, after2, "actortls_session_cache_lookups_total{result=\"hit\"}"), "node 2 found the session once");
        assertTrue(delta(before2, after2, "actortls_session_cache_fetches_total{result=\"hit\"}") <= 1, "at most one fetch");
        assertTrue(after1.get("actortls_session_cache_stored_total") >= 1, "node 1 stored its sessions");
        assertTrue(after2.get("actortls_session_cache_entries") >= 1, "node 2 holds the replicated session");
        assertTrue(after1.get("actortls_ticket_key_generation") >= 1, "ticket keys installed");
        assertTrue(after1.get("actortls_ticket_key_age_seconds") >= 0);

        // The latency histogram counts every handshake, each in its +Inf bucket, with buckets below it.
        assertEquals(after1.get("actortls_tls_handshakes_total{kind=\"full\"}"),
                after1.get("actortls_tls_handshake_duration_seconds_count{kind=\"full\"}"));
        assertEquals(after1.get("actortls_tls_handshakes_total{kind=\"full\"}"),
                after1.get("actortls_tls_handshake_duration_seconds_bucket{kind=\"full\",le=\"+Inf\"}"));
        assertTrue(after1.containsKey("actortls_tls_handshake_duration_seconds_bucket{kind=\"full\",le=\"0.005\"}"), after1.keySet().toString());
        assertTrue(after1.get("actortls_tls_handshake_duration_seconds_sum{kind=\"full\"}") > 0);
        // One pick per connection that reached the pool.
        assertEquals(7, delta(before1, after1, "actortls_pool_pick_duration_seconds_count{pool=\"demo\"}"), "picks on node 1");
        assertEquals(7, delta(before1, after1, "actortls_pool_pick_duration_seconds_bucket{pool=\"demo\",le=\"+Inf\"}"));

        // Closes by reason and bytes, exactly as the node's own access log tells them.
        assertEquals(7, closes1.size());
        Map<String, Integer> reasons = new HashMap<>();
        closes1.forEach(c -> reasons.merge(c.get("reason").asText(), 1, Integer::sum));
        reasons.forEach((reason, n) -> assertEquals((long) n, delta(before1, after1,
                "actortls_connections_closed_total{reason=\"" + reason + "\"}"), "closes for " + reason));
        assertEquals(7, delta(before1, after1, "actortls_connections_accepted_total"));
        for (String direction : List.of("client_in", "client_out", "backend_in", "backend_out")) {
            long logged = closes1.stream().mapToLong(c -> c.get(direction.replace("_in", "_bytes_in")
                    .replace("_out", "_bytes_out")).asLong()).sum();
            assertTrue(logged > 0, direction);
            assertEquals(logged, delta(before1, after1, "actortls_bytes_total{direction=\"" + direction + "\"}"), direction);
        }
        assertEquals(closes2.stream().mapToLong(c -> c.get("client_bytes_in").asLong()).sum(),
                delta(before2, after2, "actortls_bytes_total{direction=\"client_in\"}"), "client_in on node 2");
    }

    @Test
    void gaugesTheConnectionsThisNodeHoldsPerServer() {
        int port = cluster.member(1).tlsPort();
        HoldingClient client = HoldingClient.open(ca, "localhost", port, 20);
        try {
            String server = client.awaitServer(Duration.ofSeconds(15));
            Map<String, Double> held = scrape(management.get(0));
            assertEquals(1.0, held.get("actortls_server_connections{pool=\"demo\",server=\"" + server + "\"}"), server);
            String other = backends.stream().map(DemoBackendProcess::name).filter(n -> !n.equals(server)).findFirst().orElseThrow();
            assertEquals(0.0, held.getOrDefault("actortls_server_connections{pool=\"demo\",server=\"" + other + "\"}", 0.0));
            assertEquals(1.0, held.get("actortls_connections_open"));
            // Node 2 holds no lease of its own.
            assertEquals(0.0, scrape(management.get(1)).getOrDefault(
                    "actortls_server_connections{pool=\"demo\",server=\"" + server + "\"}", 0.0));
            client.close();
            awaitValue(management.get(0), "actortls_server_connections{pool=\"demo\",server=\"" + server + "\"}", 0.0);
            awaitValue(management.get(0), "actortls_connections_open", 0.0);
        } finally {
            client.close();
        }
    }

    @Test
    void servesTheTextFormatBehindTheToken() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        URI uri = URI.create("http://" + management.get(0) + "/metrics");
        HttpResponse<String> ok = http.send(HttpRequest.newBuilder(uri)
                .header("Authorization", "Bearer " + Hocon.MANAGEMENT_TOKEN).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ok.statusCode());
        // Charset names are case-insensitive; Pekko HTTP spells it UTF-8.
        assertEquals("text/plain; version=0.0.4; charset=utf-8",
                ok.headers().firstValue("Content-Type").orElse("").toLowerCase(java.util.Locale.ROOT));
        assertTrue(ok.body().contains("# TYPE actortls_tls_handshakes_total counter"), ok.body());
        assertTrue(ok.body().contains("# TYPE actortls_tls_handshake_duration_seconds histogram"), ok.body());

        HttpResponse<String> refused = http.send(HttpRequest.newBuilder(uri)
                .header("Authorization", "Bearer wrong").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, refused.statusCode());
        Cli.Result cli = Cli.against(management.get(0), "wrong-token", "metrics");
        assertEquals(1, cli.exitCode(), cli.toString());
        assertTrue(cli.err().contains("401"), cli.toString());
    }

    private void awaitValue(String node, String series, double expected) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        double last = Double.NaN;
        while (System.nanoTime() < deadline) {
            last = scrape(node).getOrDefault(series, 0.0);
            if (last == expected) return;
            sleep(200);
        }
        throw new AssertionError(series + " stayed " + last + ", expected " + expected);
    }

    /** {@code actortls metrics}: every sample, by series name with its labels as printed. */
    private static Map<String, Double> scrape(String node) {
        Cli.Result result = Cli.against(node, Hocon.MANAGEMENT_TOKEN, "metrics");
        assertEquals(0, result.exitCode(), result.toString());
        Map<String, Double> samples = new HashMap<>();
        for (String line : result.out().lines().toList()) {
            if (line.isBlank() || line.startsWith("#")) continue;
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "not a sample line: " + line);
            samples.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        return samples;
    }

    private static long delta(Map<String, Double> before, Map<String, Double> after, String series) {
        assertTrue(after.containsKey(series), series + " missing from " + after.keySet());
        return Math.round(after.get(series) - before.getOrDefault(series, 0.0));
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
