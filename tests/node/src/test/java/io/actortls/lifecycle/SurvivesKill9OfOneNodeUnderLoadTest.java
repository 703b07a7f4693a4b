package io.actortls.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Cli;
import io.actortls.testkit.ClientProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.ManagementApi;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.TlsLoad;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * SIGKILL of one node of three while tlsload runs against every node (one tlsload process per node, so each
 * failure belongs to a node): the survivors' tlsload runs see no failed connection; sessions made on the killed
 * node before the kill (TLS 1.2 session ID, TLS 1.2 ticket, TLS 1.3 stateless and stateful tickets) resume on
 * both survivors; the split-brain resolver removes the dead node within 30 s; and the pool's counts, through
 * the CLI (every gateway's leases) and in its entity (the counts it balances on), come back to exactly the
 * connections still open through the survivors, with none for the dead node, then to 0.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SurvivesKill9OfOneNodeUnderLoadTest {
    private static final int NODES = 3;
    /** Not the oldest (node 1 formed the cluster): the coordinator and singletons stay, the pool entity may not. */
    private static final int VICTIM = 2;
    private static final List<Integer> SURVIVORS = List.of(1, 3);
    private static final int HOLDS_PER_NODE = 2;
    private static final int LOAD_CONNS = 2;
    private static final Duration REMOVAL_LIMIT = Duration.ofSeconds(30);
    /** Long enough for the entity to start again elsewhere if it was on the dead node (removal + hand-over). */
    private static final Duration COUNTS_SETTLE = Duration.ofSeconds(60);

    private Path dir;
    private TestPki pki;
    private final List<BackendProcess> backends = new ArrayList<>();
    private final List<String> management = new ArrayList<>();
    private final List<ClientProcess> holds = new ArrayList<>();
    private TestCluster cluster;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("kill9");
        pki = new TestPki(dir);
        TestPki.Cert localhost = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        TestPki.Cert stateful = pki.issue("stateful", TestPki.KeyType.EC_P256, "stateful.test");
        for (int i = 0; i < 2; i++) backends.add(BackendProcess.start());
        List<String> servers = new ArrayList<>();
        for (int i = 0; i < backends.size(); i++)
            servers.add("{ name = \"b%d\", address = \"%s\" }".formatted(i + 1, backends.get(i).address()));
        cluster = TestCluster.start(dir, NODES, (i, hocon) -> {
            management.add(hocon.management());
            return hocon
                    .pooledVhost("localhost", localhost, List.of("localhost"), "web")
                    .pooledVhost("stateful", stateful, List.of("stateful.test"), "web", "resumption = \"stateful\"")
                    .defaultVhost("localhost")
                    .pool("web", servers)
                    .with("log.stats-interval = 1s")
                    .render();
        });
    }

    @AfterAll
    void stop() throws Exception {
        holds.forEach(ClientProcess::close);
        if (cluster != null) {
            cluster.close();
            for (int n = 1; n <= NODES; n++)
                Files.writeString(dir.resolve("node-" + n + ".log"), cluster.member(n).process().output());
            System.out.println("node logs in " + dir);
        }
        backends.forEach(BackendProcess::close);
    }

    @Test
    void survivorsServeEveryConnectionResumeEverySessionAndCountOnlyTheirOwn() throws Exception {
        Map<String, SessionFile> sessions = makeSessionsOnTheVictim();
        awaitSessionsOnEveryNode(Duration.ofSeconds(20));

        Map<String, Integer> heldByNode = new TreeMap<>();
        for (int n = 1; n <= NODES; n++) {
            for (int k = 0; k < HOLDS_PER_NODE; k++) holds.add(hold(n, "hold-" + n + "-" + k));
            heldByNode.put(clusterAddress(n), HOLDS_PER_NODE);
        }
        awaitPoolCounts(1, heldByNode, Duration.ofSeconds(20));

        Map<Integer, TlsLoad> loads = new LinkedHashMap<>();
        Map<Integer, TlsLoad.Report> reports = new TreeMap<>();
        NodeProcess victim = cluster.member(VICTIM).process();
        Instant killedAt;
        JsonNode[] removals = new JsonNode[NODES + 1];
        try {
            for (int n = 1; n <= NODES; n++)
                loads.put(n, TlsLoad.start(pki.caCertificate(), "localhost", "/64", LOAD_CONNS, 150,
                        List.of(cluster.member(n).tlsPort())));
            Thread.sleep(5_000);

            killedAt = Instant.now();
            victim.handle().destroyForcibly(); // SIGKILL: no leave, no hand-over, sockets reset by the kernel
            victim.handle().onExit().get(10, TimeUnit.SECONDS);
            assertFalse(victim.isAlive());
            // Its clients now fail by design; they would only spin on refused connects.
            reports.put(VICTIM, loads.remove(VICTIM).stop());

            String victimAddress = "pekko://actortls@" + clusterAddress(VICTIM);
            for (int n : SURVIVORS)
                removals[n] = cluster.member(n).process().awaitRecord("cluster membership: MemberRemoved", 0,
                        r -> r.path("message").asText().contains(victimAddress), Duration.ofSeconds(60),
                        "node " + n + " to see the killed node removed");
            // Connections through the survivors after the removal too (the pool entity may move then).
            Thread.sleep(3_000);
            for (var load : loads.entrySet()) reports.put(load.getKey(), load.getValue().stop());
        } finally {
            loads.values().forEach(TlsLoad::close);
        }

        for (var report : reports.entrySet())
            System.out.printf("tlsload on node %d%s: %d handshakes, %d GETs, errors %s%n", report.getKey(),
                    report.getKey() == VICTIM ? " (killed)" : "", report.getValue().handshakes(),
                    report.getValue().transfers(), report.getValue().errors());
        assertTrue(reports.get(VICTIM).transfers() > 0, "the load reached the victim before the kill");
        for (int n : SURVIVORS) {
            TlsLoad.Report report = reports.get(n);
            assertEquals(0, report.failed(), "failed connections on surviving node " + n + ": " + report.errors()
                    + "\n" + report.stderr());
            assertTrue(report.transfers() > 0, report.json().toString());
        }

        Duration removedAfter = Duration.ZERO;
        for (int n : SURVIVORS) {
            Duration after = Duration.between(killedAt, timestamp(removals[n]));
            String downed = cluster.member(n).process().records("cluster membership: MemberDowned").stream()
                    .map(r -> Duration.between(killedAt, timestamp(r)).toMillis() + " ms").toList().toString();
            System.out.printf("node %d: killed node downed after %s, removed after %d ms%n", n, downed, after.toMillis());
            if (after.compareTo(removedAfter) > 0) removedAfter = after;
        }
        assertTrue(removedAfter.compareTo(REMOVAL_LIMIT) <= 0,
                "the dead node was removed " + removedAfter.toMillis() + " ms after the kill, not within " + REMOVAL_LIMIT);
        assertMembershipIsTheSurvivors();

        for (var session : sessions.entrySet())
            for (int n : SURVIVORS)
                assertTrue(SClient.resumes(cluster.member(n).tlsPort(), session.getValue().serverName(),
                        session.getValue().kind(), session.getValue().file()),
                        session.getKey() + " session made on the killed node did not resume on node " + n);

        // The victim's held connections died with it; the survivors' are still open and still counted.
        Map<String, Integer> survivorsHeld = new TreeMap<>(heldByNode);
        survivorsHeld.remove(clusterAddress(VICTIM));
        awaitPoolCounts(SURVIVORS.getFirst(), survivorsHeld, COUNTS_SETTLE);
        assertCliPoolCounts(survivorsHeld);
        awaitEntityCounts(killedAt, survivorsHeld, Duration.ofSeconds(20));

        holds.forEach(ClientProcess::close);
        Map<String, Integer> none = Map.of();
        awaitPoolCounts(SURVIVORS.getFirst(), none, Duration.ofSeconds(20));
        assertCliPoolCounts(none);
        awaitEntityCounts(killedAt, none, Duration.ofSeconds(20));
    }

    /** A session saved by s_client, and how to offer it again. */
    private record SessionFile(String serverName, SClient.Kind kind, Path file) {}

    private Map<String, SessionFile> makeSessionsOnTheVictim() throws Exception {
        Map<String, SessionFile> sessions = new LinkedHashMap<>();
        sessions.put("TLS 1.2 session ID", new SessionFile("localhost", SClient.Kind.TLS12_SESSION_ID, sessionFile()));
        sessions.put("TLS 1.2 ticket", new SessionFile("localhost", SClient.Kind.TLS12_TICKET, sessionFile()));
        sessions.put("TLS 1.3 ticket", new SessionFile("localhost", SClient.Kind.TLS13_TICKET, sessionFile()));
        sessions.put("TLS 1.3 stateful ticket", new SessionFile("stateful.test", SClient.Kind.TLS13_TICKET, sessionFile()));
        for (SessionFile s : sessions.values())
            SClient.newSession(cluster.member(VICTIM).tlsPort(), s.serverName(), s.kind(), s.file());
        return sessions;
    }

    private Path sessionFile() throws Exception {
        return Files.createTempFile(dir, "session-", ".pem");
    }

    /** Until every node's copy of the session cache holds what the victim holds (replicated before the kill). */
    private void awaitSessionsOnEveryNode(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            ManagementApi.Answer answer = new ManagementApi(management.get(VICTIM - 1)).answer("/sessions/stats");
            if (answer.status() == 200) {
                last = answer.json().path("nodes");
                long victimCached = -1;
                List<Long> cached = new ArrayList<>();
                for (JsonNode node : last) {
                    cached.add(node.path("cached").asLong());
                    if (node.path("node").asText().equals(clusterAddress(VICTIM))) victimCached = node.path("cached").asLong();
                }
                long expected = victimCached;
                if (cached.size() == NODES && expected > 0 && cached.stream().allMatch(c -> c == expected)) return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the sessions made on node " + VICTIM + " did not reach every node within " + timeout
                + "; last: " + last);
    }

    /** A TLS connection held open through node {@code n} to a backend, which echoes; the echo proves it arrived. */
    private ClientProcess hold(int n, String line) {
        ClientProcess client = ClientProcess.start(SClient.command(cluster.member(n).tlsPort(), "-servername", "localhost",
                "-quiet", "-nocommands"));
        client.send((line + "\n").getBytes(StandardCharsets.US_ASCII));
        client.readUntil(line + "\n", Duration.ofSeconds(15));
        return client;
    }

    /**
     * Waits until {@code GET /pools/web} through node {@code via} counts exactly {@code expected} connections per
     * node (host:port of its cluster address), summed over the pool's servers.
     */
    private void awaitPoolCounts(int via, Map<String, Integer> expected, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            ManagementApi.Answer answer = new ManagementApi(management.get(via - 1)).answer("/pools/web");
            last = "HTTP " + answer.status() + " " + answer.body();
            if (answer.status() == 200 && answer.json().path("unanswered").isEmpty()
                    && countsByNode(answer.json()).equals(expected)) return;
            Thread.sleep(250);
        }
        throw new AssertionError("pool web did not count " + expected + " within " + timeout + "; last: " + last);
    }

    private void assertCliPoolCounts(Map<String, Integer> expected) {
        Cli.Result show = Cli.against(management.get(SURVIVORS.getFirst() - 1), Hocon.MANAGEMENT_TOKEN, "pools", "show",
                "web", "--json");
        assertEquals(0, show.exitCode(), show.toString());
        assertEquals(expected, countsByNode(show.json()), show.out());
        int total = 0;
        for (JsonNode server : show.json().path("servers")) total += server.path("connections").asInt();
        assertEquals(expected.values().stream().mapToInt(Integer::intValue).sum(), total, show.out());
        System.out.println("pools show web: " + expected.values().stream().mapToInt(Integer::intValue).sum()
                + " connections, by node " + expected);
    }

    private static Map<String, Integer> countsByNode(JsonNode pool) {
        Map<String, Integer> byNode = new TreeMap<>();
        for (JsonNode server : pool.path("servers"))
            server.path("connectionsByNode").properties().forEach(e -> byNode.merge(e.getKey(), e.getValue().asInt(), Integer::sum));
        byNode.values().removeIf(count -> count == 0);
        return byNode;
    }

    /**
     * Waits for the pool entity's own counts (its "pool stats" record, logged each second on whichever survivor
     * hosts it) to be exactly {@code expected} by node, summed over servers, none negative, the dead node absent.
     */
    private void awaitEntityCounts(Instant since, Map<String, Integer> expected, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        int total = expected.values().stream().mapToInt(Integer::intValue).sum();
        while (System.nanoTime() < deadline) {
            for (int n : SURVIVORS) {
                List<JsonNode> stats = cluster.member(n).process().records("pool stats");
                if (stats.isEmpty() || timestamp(stats.getLast()).isBefore(since)) continue;
                JsonNode record = stats.getLast();
                if (last == null || timestamp(record).isAfter(timestamp(last))) last = record;
            }
            if (last != null) {
                Map<String, Integer> byNode = new TreeMap<>();
                // The entity names nodes by their full address (pekko://actortls@host:port).
                last.path("connections_by_node").properties().forEach(e ->
                        byNode.put(e.getKey().substring(e.getKey().indexOf('@') + 1), e.getValue().asInt()));
                byNode.values().removeIf(count -> count == 0);
                int active = 0;
                boolean negative = false;
                for (JsonNode server : last.path("servers")) {
                    active += server.path("active").asInt();
                    negative |= server.path("active").asInt() < 0;
                }
                assertFalse(negative, "a negative count: " + last);
                if (byNode.equals(expected) && active == total) {
                    System.out.println("pool entity on " + last.path("node").asText() + " counts " + byNode);
                    return;
                }
            }
            Thread.sleep(250);
        }
        throw new AssertionError("the pool entity did not count " + expected + " within " + timeout + "; last: " + last);
    }

    private void assertMembershipIsTheSurvivors() {
        Cli.Result show = Cli.against(management.get(SURVIVORS.getFirst() - 1), Hocon.MANAGEMENT_TOKEN, "cluster", "show",
                "--json");
        assertEquals(0, show.exitCode(), show.toString());
        List<String> members = new ArrayList<>();
        for (JsonNode m : show.json().path("members")) {
            assertEquals("Up", m.path("status").asText(), show.out());
            members.add(m.path("address").asText());
        }
        assertEquals(SURVIVORS.stream().map(n -> "pekko://actortls@" + clusterAddress(n)).sorted().toList(),
                members.stream().sorted().toList(), show.out());
        assertTrue(show.json().path("unreachable").isEmpty(), show.out());
    }

    private String clusterAddress(int n) {
        return "127.0.0.1:" + cluster.member(n).clusterPort();
    }

    private static Instant timestamp(JsonNode record) {
        return OffsetDateTime.parse(record.path("@timestamp").asText()).toInstant();
    }
}
