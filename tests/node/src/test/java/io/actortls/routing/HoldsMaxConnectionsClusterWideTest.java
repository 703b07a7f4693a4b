package io.actortls.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.HoldingClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * max-connections is a limit for the whole cluster: with two servers of max-connections 2, four connections held
 * through three nodes fill the pool, a fifth on any node waits in the pool's queue until one of them ends, a
 * connection beyond max-waiting is closed at once (queue-full), waiters are closed at the queue timeout
 * (queue-timeout), and when everything has closed the pool entity counts no connection left.
 */
class HoldsMaxConnectionsClusterWideTest {
    private static final int NODES = 3;
    private static final Duration HOLD = Duration.ofSeconds(60);
    private static final Duration FIRST_HOLD = Duration.ofSeconds(8);
    private static final Duration FIFTH_BEFORE_FIRST_ENDS = Duration.ofMillis(1_500);
    private static final Duration QUEUE_TIMEOUT = Duration.ofSeconds(3);
    private static final String POOL = "limited";

    @Test
    void fourHoldTheTwoServersAFifthWaitsForAFreeSlotAndTheQueueIsBounded() throws Exception {
        Path dir = Files.createTempDirectory("max-connections");
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        List<DemoBackendProcess> backends = List.of(DemoBackendProcess.start("m-1"), DemoBackendProcess.start("m-2"));
        List<HoldingClient> clients = new ArrayList<>();
        TestCluster cluster = null;
        try {
            cluster = TestCluster.start(dir, NODES, (i, hocon) -> hocon
                    .pooledVhost("localhost", cert, List.of("localhost"), POOL)
                    .pool(POOL, backends.stream().map(b -> "{ name = \"%s\", address = \"%s\", max-connections = 2 }"
                                    .formatted(b.name(), b.address())).toList(),
                            // Picks wait for the entity (no local decisions on this loaded machine): the limit
                            // under test is the entity's.
                            "pick-timeout = 2s",
                            "queue { max-waiting = 2, timeout = " + QUEUE_TIMEOUT.toSeconds() + "s }")
                    .with("log.stats-interval = 1s")
                    .render());
            TestCluster c = cluster;
            Path ca = pki.caCertificate();

            // Four connections through nodes 1, 2, 3 and 1 fill both servers; the first ends on its own after
            // FIRST_HOLD. (A client that just goes away does not free its slot: its FIN is passed on to the server,
            // which, holding its response, keeps its half open until the hold ends.)
            HoldingClient first = open(clients, ca, c, 1, FIRST_HOLD);
            String firstServer = first.awaitServer(Duration.ofSeconds(15));
            long firstEnds = System.nanoTime() + FIRST_HOLD.toNanos();
            List<HoldingClient> others = new ArrayList<>();
            for (int node : new int[] {2, 3, 1}) others.add(open(clients, ca, c, node, HOLD));
            List<String> holderServers = new ArrayList<>(List.of(firstServer));
            others.forEach(h -> holderServers.add(h.awaitServer(Duration.ofSeconds(15))));
            Map<String, Long> perServer = new TreeMap<>(holderServers.stream()
                    .collect(Collectors.groupingBy(s -> s, Collectors.counting())));
            assertEquals(Map.of("m-1", 2L, "m-2", 2L), perServer, "two connections per server");
            JsonNode full = awaitStats(c, Instant.now(), s -> active(s, "m-1") == 2 && active(s, "m-2") == 2,
                    Duration.ofSeconds(5), "both servers at 2 active");
            List<Integer> byNode = new ArrayList<>();
            full.path("connections_by_node").forEach(n -> byNode.add(n.asInt()));
            assertEquals(List.of(1, 1, 2), byNode.stream().sorted().toList(),
                    "the entity counts every node's connections: " + full.path("connections_by_node"));

            // A fifth, through node 3, opened shortly before the first ends: it waits, and gets the first's slot.
            long untilFifth = firstEnds - FIFTH_BEFORE_FIRST_ENDS.toNanos() - System.nanoTime();
            assertTrue(untilFifth > 0, "the four took too long to open; the first ends in "
                    + (firstEnds - System.nanoTime()) / 1_000_000 + " ms");
            Thread.sleep(untilFifth / 1_000_000);
            long fifthOpened = System.nanoTime();
            HoldingClient fifth = open(clients, ca, c, 3, HOLD);
            Duration quiet = Duration.ofNanos(firstEnds - System.nanoTime()).minusMillis(200);
            assertTrue(quiet.toMillis() >= 500, "the fifth opened too late to be seen waiting (" + quiet.toMillis() + " ms)");
            assertThrows(AssertionError.class, () -> fifth.awaitServer(quiet),
                    "the fifth connection got a server while four held both");
            assertEquals(0, first.awaitEnd(Duration.ofSeconds(5)), "the first hold ended complete");
            long freed = System.nanoTime();
            String fifthServer = fifth.awaitServer(Duration.ofSeconds(3));
            long servedAfterMillis = (System.nanoTime() - freed) / 1_000_000;
            System.out.printf("fifth served by %s %d ms after a slot freed (it waited %d ms)%n", fifthServer,
                    servedAfterMillis, (System.nanoTime() - fifthOpened) / 1_000_000);
            assertEquals(firstServer, fifthServer, "the fifth took the slot that freed");
            assertTrue(servedAfterMillis <= 1_500, "served " + servedAfterMillis + " ms after the slot freed, not within ~1 s");
            awaitStats(c, Instant.now(), s -> s.path("queued").asInt() == 1 && s.path("granted").asInt() == 5
                    && s.path("waiting").asInt() == 0, Duration.ofSeconds(5), "the fifth granted from the queue");

            // Full again: two more wait (nodes 1 and 2); a third beyond max-waiting (node 3) is refused at once.
            long waitersOpened = System.nanoTime();
            Instant waitersOpenedAt = Instant.now();
            List<HoldingClient> waiters = List.of(open(clients, ca, c, 1, HOLD), open(clients, ca, c, 2, HOLD));
            List<CompletableFuture<Long>> waiterEnds = waiters.stream().map(w -> CompletableFuture.supplyAsync(() -> {
                w.awaitEnd(Duration.ofSeconds(15));
                return (System.nanoTime() - waitersOpened) / 1_000_000;
            })).toList();
            awaitStats(c, waitersOpenedAt, s -> s.path("waiting").asInt() == 2, Duration.ofSeconds(2), "two connections waiting");
            long refusedOpened = System.nanoTime();
            HoldingClient refused = open(clients, ca, c, 3, HOLD);
            refused.awaitEnd(Duration.ofSeconds(2));
            long refusedAfterMillis = (System.nanoTime() - refusedOpened) / 1_000_000;
            JsonNode queueFull = c.member(3).process().awaitClose(r -> "queue-full".equals(r.path("reason").asText())
                    && POOL.equals(r.path("pool").asText()), Duration.ofSeconds(2), "the connection beyond max-waiting");
            System.out.printf("beyond max-waiting: closed after %d ms (node: %d ms)%n", refusedAfterMillis,
                    queueFull.path("duration_ms").asLong());
            assertTrue(queueFull.path("duration_ms").asLong() <= 1_000, "queue-full not at once: " + queueFull);
            assertTrue(waiters.stream().allMatch(HoldingClient::isOpen), "the waiters still wait");

            long lowest = QUEUE_TIMEOUT.toMillis() * 9 / 10;
            long highest = QUEUE_TIMEOUT.toMillis() * 11 / 10 + 500; // + curl's start, the handshake, the entity's 100 ms tick
            for (int i = 0; i < waiters.size(); i++) {
                long endedAfter = waiterEnds.get(i).join();
                int node = i + 1;
                JsonNode timedOut = c.member(node).process().awaitClose(r -> "queue-timeout".equals(r.path("reason").asText())
                        && POOL.equals(r.path("pool").asText()), Duration.ofSeconds(2), "the waiter on node " + node);
                long nodeMillis = timedOut.path("duration_ms").asLong();
                System.out.printf("waiter on node %d: closed %d ms after it was opened (node: %d ms)%n", node, endedAfter, nodeMillis);
                assertTrue(endedAfter >= lowest && endedAfter <= highest, "waiter on node " + node + " closed after "
                        + endedAfter + " ms, not " + lowest + "-" + highest + " ms");
                assertTrue(nodeMillis >= lowest && nodeMillis <= highest, "node " + node + " closed the waiter after "
                        + nodeMillis + " ms, not " + lowest + "-" + highest + " ms");
            }
            assertEquals(1, c.member(3).process().closes("queue-full").size(), "one queue-full close");

            // Everything closed, clients and then servers (which end the holds): the entity counts no connection
            // and no waiter.
            Instant closedAt = Instant.now();
            clients.forEach(HoldingClient::close);
            backends.forEach(DemoBackendProcess::close);
            JsonNode empty = awaitStats(c, closedAt, s -> active(s, "m-1") == 0 && active(s, "m-2") == 0
                    && s.path("waiting").asInt() == 0, Duration.ofSeconds(10), "no connection left");
            empty.path("connections_by_node").forEach(n -> assertEquals(0, n.asInt(), "leases left: " + empty));
            System.out.println("after closing everything: " + empty.path("servers") + " " + empty.path("connections_by_node"));
        } finally {
            clients.forEach(HoldingClient::close);
            if (cluster != null) {
                cluster.close();
                for (int n = 1; n <= NODES; n++)
                    Files.writeString(dir.resolve("node-" + n + ".log"), cluster.member(n).process().output());
                System.out.println("node logs in " + dir);
            }
            backends.forEach(DemoBackendProcess::close);
        }
    }

    private static HoldingClient open(List<HoldingClient> clients, Path ca, TestCluster cluster, int node, Duration hold) {
        HoldingClient client = HoldingClient.open(ca, "localhost", cluster.member(node).tlsPort(), (int) hold.toSeconds());
        clients.add(client);
        return client;
    }

    private static int active(JsonNode stats, String server) {
        return stats.path("servers").path(server).path("active").asInt(-1);
    }

    /** The first "pool stats" record of the pool's entity logged after {@code after} that passes {@code test}. */
    private static JsonNode awaitStats(TestCluster cluster, Instant after, Predicate<JsonNode> test, Duration timeout,
                                       String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (true) {
            for (int n = 1; n <= NODES; n++)
                for (JsonNode r : cluster.member(n).process().records("pool stats")) {
                    if (!POOL.equals(r.path("pool").asText())
                            || !OffsetDateTime.parse(r.path("@timestamp").asText()).toInstant().isAfter(after)) continue;
                    if (test.test(r)) return r;
                    last = r;
                }
            if (System.nanoTime() >= deadline)
                throw new AssertionError("no pool stats with " + what + " within " + timeout + "; last: " + last);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
