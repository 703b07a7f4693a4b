package io.actortls.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.ManagementApi;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile TLS input against a real node over real TCP: random bytes, truncated and mutated ClientHellos (bit
 * flips, lying lengths, duplicated and malformed extensions, wrong versions), SSLv2-style hellos, oversized
 * records, garbage after a valid hello, valid hellos in 1-byte writes and 1-byte records, early data, and real
 * clients that shake hands one byte per write, send a forged record afterwards, or ask to renegotiate.
 *
 * <p>Every case must be closed by the node, each under the reason its kind calls for, as the node's own close
 * counters show; the node must stay up (no JVM crash, no error logged), end with no connection and no file
 * descriptor left over, and serve long-lived streams and fresh handshakes of other clients all the while.
 *
 * <p>{@code -Dfuzz.cases=N} (default 100,000), {@code -Dfuzz.seed=S} and {@code -Dfuzz.concurrency=C} (default 64)
 * change the run; docs/reliability.md ("Hostile input") records the long one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClosesFuzzedTlsInputWithCountedReasonsTest {
    private static final long SEED = Long.getLong("fuzz.seed", 20261122L);
    private static final long CASES = Long.getLong("fuzz.cases", 100_000L);
    private static final int CONCURRENCY = Integer.getInteger("fuzz.concurrency", 64);
    /** Short, so that the cases that go silent end soon; far above how long any other case takes. */
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(3);
    /** A case the node has not closed by then hangs: the handshake timeout, and slack for a loaded machine. */
    private static final Duration CLOSE_BOUND = HANDSHAKE_TIMEOUT.plusSeconds(7);
    private static final int LONG_LIVED_STREAMS = 4;
    /** File descriptors the node may open during the run besides sockets (jars read for classes loaded late). */
    private static final int FD_SLACK = 16;
    /** Native memory the node may add after the warm-up (its heap is fixed and pre-touched). */
    private static final long RSS_SLACK_KIB = 64 * 1024;
    private static final List<String> REFUSED = List.of("protocol-error", "handshake-aborted");
    private static final List<String> SERVED = List.of("client-closed", "backend-closed");

    @TempDir
    static Path dir;

    private BackendProcess backend;
    private NodeProcess node;
    private ManagementApi management;
    private int port;
    private TestPki pki;
    private JdkTlsClient jdk;
    private List<ClientHelloCorpus.Flight> corpus;

    @BeforeAll
    void startNode() throws Exception {
        pki = new TestPki(dir);
        TestPki.Cert localhost = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        backend = BackendProcess.start();
        port = Tools.freePort();
        Hocon hocon = new Hocon(port)
                .pool("fuzz", List.of("\"" + backend.address() + "\""))
                // http/1.1 first: the backend speaks nothing else, and the node chooses by its own order.
                .pooledVhost("localhost", localhost, List.of("localhost"), "fuzz", "alpn = [\"http/1.1\", \"h2\"]")
                .pooledVhost("wildcard", pki.issue("wildcard", TestPki.KeyType.EC_P256, "*.fuzz.test"),
                        List.of("*.fuzz.test"), "fuzz")
                .pooledVhost("stateful", pki.issue("stateful", TestPki.KeyType.EC_P256, "stateful.fuzz.test"),
                        List.of("stateful.fuzz.test"), "fuzz", "resumption = \"stateful\"")
                .defaultVhost("localhost")
                .with("timeouts.handshake = " + HANDSHAKE_TIMEOUT.toSeconds() + "s");
        management = new ManagementApi(hocon.management());
        // A fixed, pre-touched heap: what RSS gains during the run is native memory (OpenSSL's among it).
        node = NodeProcess.start(dir, hocon.render(), Map.of("JAVA_TOOL_OPTIONS", "-Xms512m -XX:+AlwaysPreTouch"));
        node.awaitReady(Duration.ofSeconds(60));
        jdk = new JdkTlsClient(pki.caCertificate());
        corpus = ClientHelloCorpus.record(dir, port, localhost, jdk);
        // One access-log line per case would be most of the node's work and of this test's memory; the close
        // counters count the same closes by the same reasons.
        var quiet = management.call("PUT", "/log/level?logger=actortls.connection&level=WARN", "Bearer " + Hocon.MANAGEMENT_TOKEN);
        assertEquals(200, quiet.statusCode(), quiet.body());
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
        if (backend != null) backend.close();
    }

    @Test
    void closesEveryFuzzedConnectionWithACountedReasonWhileOtherClientsAreServed() throws Exception {
        Map<String, Double> before = management.metrics();
        long fdsBefore = openFiles();
        TlsFuzzCases cases = new TlsFuzzCases(SEED, corpus);
        FuzzRunner fuzz = new FuzzRunner(port, jdk, CONCURRENCY, CLOSE_BOUND);
        GoodTraffic good = GoodTraffic.start(port, pki.caCertificate(), LONG_LIVED_STREAMS);

        long start = System.nanoTime();
        long nodeCpuBefore = nodeCpuMillis(), testCpuBefore = testCpuMillis();
        // The node's memory sampled after each tenth of the cases: a leak grows with every tenth. The first tenth
        // warms up (OpenSSL's and the JVM's allocators reach their working size).
        List<Long> rss = new java.util.ArrayList<>();
        GoodTraffic.Summary served;
        try {
            fuzz.run(cases, CASES, tenth -> rss.add(node.rssKib()));
        } finally {
            served = good.stop();
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        long nodeCpu = nodeCpuMillis() - nodeCpuBefore, testCpu = testCpuMillis() - testCpuBefore;
        Map<String, Double> after = awaitNoConnectionOpen();
        long endRss = node.rssKib(), endFds = openFiles();
        long warmRss = rss.isEmpty() ? endRss : rss.getFirst();
        rss.add(endRss);

        long closes = delta(before, after, "actortls_connections_closed_total{");
        System.out.printf("""
                        fuzz: %,d cases (seed %d, %d at once) in %d s (%,.0f cases/s), %,d bytes sent, %,d one-byte writes
                        fuzz: CPU: node %,d ms (%,d µs a case), this test's JVM %,d ms (%,d µs a case)
                        fuzz: by kind %s
                        fuzz: mean ms a case by kind %s
                        fuzz: node closes by reason %s; %,d ServerHellos to valid ClientHellos; slowest close after the \
                        client's last byte %d ms; silent cases closed after %d-%d ms
                        fuzz: good clients: %d streams (%,d bytes echoed, longest wait %d ms), %d curls (slowest %d ms)
                        fuzz: node RSS %,d kB after the first tenth of the cases, %,d kB at the end; open files %d before, %d after
                        fuzz: node RSS (MB) after each tenth of the cases, and at the end: %s
                        fuzz: session-cache fetches for offered sessions (hit/miss/timeout): %d/%d/%d; node warnings logged: %d
                        """, CASES, SEED, CONCURRENCY, took.toSeconds(), CASES / Math.max(0.001, took.toMillis() / 1000.0),
                fuzz.bytesSent(), fuzz.oneByteWrites(), nodeCpu, nodeCpu * 1000 / CASES, testCpu, testCpu * 1000 / CASES,
                fuzz.casesByKind(), fuzz.meanMillisByKind(), reasons(before, after), fuzz.serverHellos(),
                fuzz.slowestClose().toMillis(), fuzz.quickestSilent().toMillis(), fuzz.slowestSilent().toMillis(),
                LONG_LIVED_STREAMS, served.streamedBytes(), served.longestEchoWait().toMillis(), served.curls(),
                served.slowestCurl().toMillis(), warmRss, endRss, fdsBefore, endFds, rss.stream().map(kib -> kib / 1024).toList(),
                delta(before, after, "actortls_session_cache_fetches_total{result=\"hit\"}"),
                delta(before, after, "actortls_session_cache_fetches_total{result=\"miss\"}"),
                delta(before, after, "actortls_session_cache_fetches_total{result=\"timeout\"}"),
                node.records("").stream().filter(r -> r.path("level").asText().equals("WARN")).count());

        // The node is up, did not crash, and logged no error (a failed callback or connection actor logs one).
        assertTrue(node.isAlive(), node.output());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().startsWith("hs_err_pid")).toList());
        }
        List<JsonNode> errors = node.records("").stream().filter(r -> r.path("level").asText().equals("ERROR")).toList();
        assertEquals(List.of(), errors, "errors logged by the node");

        // Every case was closed in time, every valid ClientHello answered, every real client served or refused.
        assertEquals(0, fuzz.failures(), fuzz.failures() + " cases failed, e.g.:\n" + String.join("\n", fuzz.failureExamples()));
        assertEquals(List.of(), served.problems(), "the good clients");
        assertTrue(served.curls() >= 5 && served.streamedBytes() > 0, served.toString());

        // Each case counted once, under the reason its kind calls for; no internal error, nothing else.
        long goodConnections = served.connections();
        assertEquals(CASES + goodConnections, closes, "closes: " + reasons(before, after));
        assertEquals(closes, delta(before, after, "actortls_connections_accepted_total"), "accepted");
        assertEquals(fuzz.expectedTimedOut(), delta(before, after, reason("handshake-timeout")), "handshake-timeout");
        assertEquals(fuzz.expectedRefused(), REFUSED.stream().mapToLong(r -> delta(before, after, reason(r))).sum(),
                "protocol-error + handshake-aborted: " + reasons(before, after));
        assertEquals(fuzz.expectedServed() + goodConnections, SERVED.stream().mapToLong(r -> delta(before, after, reason(r))).sum(),
                "client-closed + backend-closed: " + reasons(before, after));
        // Only the real clients got through a handshake, so nothing fuzzed ever reached the backend.
        assertEquals(fuzz.expectedHandshakes() + goodConnections, delta(before, after, "actortls_tls_handshakes_total{"),
                "handshakes");

        // Nothing left behind: connections (the gauge), sockets (file descriptors), native memory.
        assertTrue(endFds <= fdsBefore + FD_SLACK, "open files " + fdsBefore + " before, " + endFds + " after");
        assertTrue(endRss <= warmRss + RSS_SLACK_KIB, "RSS " + warmRss + " kB after the warm-up, " + endRss + " kB at the end");
    }

    private static String reason(String label) {
        return "actortls_connections_closed_total{reason=\"" + label + "\"}";
    }

    /** The closes by reason between two scrapes, those that changed. */
    private static Map<String, Long> reasons(Map<String, Double> before, Map<String, Double> after) {
        Map<String, Long> changed = new java.util.TreeMap<>();
        after.keySet().stream().filter(k -> k.startsWith("actortls_connections_closed_total{")).forEach(k -> {
            long d = delta(before, after, k);
            if (d != 0) changed.put(k.substring(k.indexOf('"') + 1, k.lastIndexOf('"')), d);
        });
        return changed;
    }

    /** How much the series that start with {@code prefix} grew, summed. */
    private static long delta(Map<String, Double> before, Map<String, Double> after, String prefix) {
        double sum = 0;
        for (var e : after.entrySet())
            if (e.getKey().startsWith(prefix)) sum += e.getValue() - before.getOrDefault(e.getKey(), 0.0);
        return Math.round(sum);
    }

    /** The last connections (the good clients' last closes) may take a moment to be counted. */
    private Map<String, Double> awaitNoConnectionOpen() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Map<String, Double> metrics = management.metrics();
        while (metrics.getOrDefault("actortls_connections_open", -1.0) != 0 && System.nanoTime() < deadline) {
            Thread.sleep(200);
            metrics = management.metrics();
        }
        assertEquals(0.0, metrics.get("actortls_connections_open"), "connections still open on the node");
        return metrics;
    }

    /** User and system CPU time of the node process so far (/proc/PID/stat, in clock ticks of 10 ms). */
    private long nodeCpuMillis() throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(node.pid()), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10;
    }

    private static long testCpuMillis() {
        return ProcessHandle.current().info().totalCpuDuration().orElse(Duration.ZERO).toMillis();
    }

    private long openFiles() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(node.pid()), "fd"))) {
            return fds.count();
        }
    }
}
