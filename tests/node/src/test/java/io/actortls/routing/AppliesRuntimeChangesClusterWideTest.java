package io.actortls.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.node.NodeConfig;
import io.actortls.node.RunningNode;
import io.actortls.testkit.ClusterPki;
import io.actortls.testkit.Curl;
import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.HoldingClient;
import io.actortls.testkit.RunningNodes;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Runtime changes to a pool (drain, enable, disable, weight, add, remove), sent through Cluster Sharding from a
 * node that does not host the pool's entity, apply to real connections through all three nodes (three actor
 * systems in this JVM), and outlive the entity moving to another node when its node leaves. The methods run in
 * order: each starts from the pool as the previous ones left it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AppliesRuntimeChangesClusterWideTest {
    private static final Duration ASK = Duration.ofSeconds(5);
    /**
     * Clients block on their curl processes: not in the common pool, which the nodes in this JVM need (Pekko's
     * pipeToSelf completes a backend connect there) and which has a single thread on two cores.
     */
    private static final ExecutorService CLIENTS =
            Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon().name("clients-", 0).factory());
    private static final String POOL = "demo";

    private Path dir;
    private TestPki pki;
    private final List<DemoBackendProcess> backends = new ArrayList<>();
    private final List<RunningNode> nodes = new ArrayList<>();
    private final List<Integer> tlsPorts = new ArrayList<>();
    /** Nodes still in the cluster (indexes into {@link #nodes}). */
    private final List<Integer> live = new ArrayList<>(List.of(0, 1, 2));

    @BeforeAll
    void startCluster() throws Exception {
        dir = Files.createTempDirectory("runtime-changes");
        pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        List<CompletableFuture<DemoBackendProcess>> starting = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            String name = "backend-" + i;
            starting.add(CompletableFuture.supplyAsync(() -> DemoBackendProcess.start(name), CLIENTS));
        }
        for (var b : starting) backends.add(b.join());
        // backend-4 is not configured: it is added at runtime.
        List<String> servers = backends.subList(0, 3).stream().map(b -> b.server(1)).toList();
        int seedPort = Tools.freePort();
        for (int i = 1; i <= 3; i++) {
            int tlsPort = Tools.freePort();
            String hocon = new Hocon(tlsPort)
                    .cluster(i == 1 ? seedPort : Tools.freePort(), List.of("127.0.0.1:" + seedPort), ClusterPki.stores(i))
                    .pooledVhost("localhost", cert, List.of("localhost"), POOL)
                    .pool(POOL, servers, "algorithm = \"roundrobin\"",
                            "health { check = \"tcp\", interval = 500ms, timeout = 300ms, rise = 1, fall = 2 }")
                    .render();
            Path file = Files.writeString(dir.resolve("node-" + i + ".hocon"), hocon);
            nodes.add(RunningNode.start(NodeConfig.load(file)));
            tlsPorts.add(tlsPort);
        }
        RunningNodes.awaitMembersUp(nodes, Duration.ofSeconds(60));
        // Every server checked up before the first change.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            PoolView view = view();
            if (view.servers().size() == 3 && view.servers().stream().allMatch(s -> s.healthy()
                    && !s.healthReason().equals("not checked yet"))) break;
            if (System.nanoTime() > deadline) throw new AssertionError("servers not checked up: " + view);
            Thread.sleep(100);
        }
    }

    @AfterAll
    void stopAll() throws InterruptedException {
        RunningNodes.stopAll(live.stream().map(nodes::get).toList());
        backends.forEach(DemoBackendProcess::close);
    }

    @Test
    @Order(1)
    void drainingLetsOpenConnectionsFinishAndSendsNoNewOnesUntilEnabled() throws Exception {
        int holdSeconds = 6;
        List<HoldingClient> opened = new ArrayList<>();
        try {
            Hold hold = holdOn("backend-1", 6, holdSeconds, opened);
            HoldingClient onBackend1 = hold.client();
            long openedAt = hold.openedAtNanos();

            change(replyTo -> new PoolEntity.SetAdminState("backend-1", AdminState.DRAINING, replyTo));
            long drainedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - openedAt);
            assertTrue(drainedAfterMs < holdSeconds * 1000L - 1000, "drained only " + drainedAfterMs + " ms after the hold began");
            assertTrue(onBackend1.isOpen(), "the holding connection ended before the drain");
            assertEquals(AdminState.DRAINING, view().server("backend-1").orElseThrow().admin());

            Map<String, Long> whileDraining = spray(30);
            assertEquals(30, total(whileDraining), whileDraining.toString());
            assertFalse(whileDraining.containsKey("backend-1"), "a new connection reached drained backend-1: " + whileDraining);

            assertEquals(0, onBackend1.awaitEnd(Duration.ofSeconds(holdSeconds + 15)),
                    "the connection to the drained server did not complete: " + onBackend1.stderrText());
            long lastedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - openedAt);
            System.out.printf("drained after %d ms; the hold on backend-1 lasted %d ms (hold %d s)%n",
                    drainedAfterMs, lastedMs, holdSeconds);
            assertTrue(lastedMs >= holdSeconds * 1000L, "the connection to the drained server ended after " + lastedMs + " ms");

            change(replyTo -> new PoolEntity.SetAdminState("backend-1", AdminState.ENABLED, replyTo));
            Map<String, Long> enabled = spray(30);
            assertEquals(30, total(enabled), enabled.toString());
            assertWithinOne(10, enabled.getOrDefault("backend-1", 0L), "backend-1 enabled again: " + enabled);
        } finally {
            opened.forEach(HoldingClient::close);
        }
    }

    @Test
    @Order(2)
    void weightSetsTheShareOfNewConnections() throws Exception {
        change(replyTo -> new PoolEntity.SetWeight("backend-3", 4, replyTo));
        assertEquals(4, view().server("backend-3").orElseThrow().spec().weight());
        // Weights 1/1/4, every pick by the entity's smooth weighted round robin.
        assertShares(Map.of("backend-1", 6L, "backend-2", 6L, "backend-3", 24L), spray(36));
    }

    @Test
    @Order(3)
    void disablingClosesOpenConnectionsAtOnce() throws Exception {
        int holdSeconds = 30;
        List<HoldingClient> opened = new ArrayList<>();
        try {
            // Weights 1/1/4: backend-2 has one pick in six.
            HoldingClient onBackend2 = holdOn("backend-2", 12, holdSeconds, opened).client();

            long disabledAt = System.nanoTime();
            change(replyTo -> new PoolEntity.SetAdminState("backend-2", AdminState.DISABLED, replyTo));
            int exit = onBackend2.awaitEnd(Duration.ofSeconds(10));
            long closedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - disabledAt);
            System.out.printf("the hold on backend-2 ended %d ms after the disable was sent (curl exit %d)%n", closedAfterMs, exit);
            assertTrue(closedAfterMs < 5_000, "closed only after " + closedAfterMs + " ms");
            assertNotEquals(0, exit, "curl read a complete response from a server disabled mid-response");
            assertTrue(opened.stream().filter(h -> h != onBackend2).allMatch(HoldingClient::isOpen),
                    "a connection to another server was closed");

            Map<String, Long> after = spray(12);
            assertEquals(12, total(after), after.toString());
            assertFalse(after.containsKey("backend-2"), "a new connection reached disabled backend-2: " + after);
        } finally {
            opened.forEach(HoldingClient::close);
        }
    }

    @Test
    @Order(4)
    void addedServerTakesConnectionsAndRemovedOneNoMore() throws Exception {
        int port = backends.get(3).port();
        change(replyTo -> new PoolEntity.AddServer(new ServerSpec("backend-4", "127.0.0.1", port, 1, 0), replyTo));
        // backend-1 w1, backend-3 w4, backend-4 w1 (backend-2 disabled)
        Map<String, Long> added = spray(12);
        System.out.println("after adding backend-4: " + added);
        assertEquals(12, total(added), added.toString());
        assertTrue(added.getOrDefault("backend-4", 0L) >= 1, "added backend-4 got no connection: " + added);

        change(replyTo -> new PoolEntity.RemoveServer("backend-3", replyTo));
        assertTrue(view().server("backend-3").isEmpty(), "backend-3 still in the pool");
        Map<String, Long> removed = spray(12);
        System.out.println("after removing backend-3: " + removed);
        assertEquals(12, total(removed), removed.toString());
        assertFalse(removed.containsKey("backend-3"), "removed backend-3 got a connection: " + removed);
        assertWithinOne(6, removed.getOrDefault("backend-4", 0L), removed.toString());
    }

    @Test
    @Order(5)
    void changesOutliveTheEntityMovingToAnotherNode() throws Exception {
        change(replyTo -> new PoolEntity.SetAdminState("backend-2", AdminState.DRAINING, replyTo));
        change(replyTo -> new PoolEntity.SetWeight("backend-1", 3, replyTo));
        // backend-1 w3, backend-4 w1; backend-2 draining, backend-3 removed
        assertShares(Map.of("backend-1", 18L, "backend-4", 6L), spray(24));

        String oldHost = view().entityNode();
        int leaving = hostOf(oldHost);
        long leftAt = System.nanoTime();
        nodes.get(leaving).close(); // graceful leave: the shard is handed off to another node
        live.remove(Integer.valueOf(leaving));

        PoolView moved = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (moved == null || moved.entityNode().equals(oldHost)) {
            if (System.nanoTime() > deadline) throw new AssertionError("the entity did not answer from another node; last view " + moved);
            try {
                moved = view();
            } catch (AssertionError notYet) {
                Thread.sleep(200);
            }
        }
        System.out.printf("entity moved from %s to %s; answered %d ms after the leave began: %s%n", oldHost,
                moved.entityNode(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - leftAt), moved);
        assertEquals(List.of("backend-1", "backend-2", "backend-4"),
                moved.servers().stream().map(s -> s.spec().name()).sorted().toList(), "servers after the move");
        ServerView b1 = moved.server("backend-1").orElseThrow();
        assertEquals(3, b1.spec().weight());
        assertEquals(AdminState.ENABLED, b1.admin());
        assertEquals(AdminState.DRAINING, moved.server("backend-2").orElseThrow().admin());
        ServerView b4 = moved.server("backend-4").orElseThrow();
        assertEquals(backends.get(3).port(), b4.spec().port());
        assertEquals(AdminState.ENABLED, b4.admin());

        assertShares(Map.of("backend-1", 18L, "backend-4", 6L), spray(24));
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /** The TLS port of the {@code i}-th live node, round the live nodes. */
    private int port(int i) {
        return tlsPorts.get(live.get(i % live.size()));
    }

    private record Hold(HoldingClient client, long openedAtNanos) {}

    /**
     * Opens holding connections round the live nodes, at most {@code tries}, until one reaches {@code server};
     * each one opened is added to {@code opened}, for the caller to close.
     */
    private Hold holdOn(String server, int tries, int seconds, List<HoldingClient> opened) {
        for (int i = 0; i < tries; i++) {
            long openedAt = System.nanoTime();
            HoldingClient hold = HoldingClient.open(pki.caCertificate(), "localhost", port(i), seconds);
            opened.add(hold);
            if (hold.awaitServer(Duration.ofSeconds(10)).equals(server)) return new Hold(hold, openedAt);
        }
        throw new AssertionError("no holding connection reached " + server + " in " + tries + " picks");
    }

    /** {@code count} new connections, spread evenly over the live nodes at once; connections per server. */
    private Map<String, Long> spray(int count) {
        List<CompletableFuture<List<String>>> sprays = new ArrayList<>();
        for (int i = 0; i < live.size(); i++) {
            int port = port(i);
            int n = count / live.size() + (i < count % live.size() ? 1 : 0);
            sprays.add(CompletableFuture.supplyAsync(() ->
                    Curl.onNewConnections(pki.caCertificate(), "localhost", port, "/", n, "--max-time", "30"), CLIENTS));
        }
        return new TreeMap<>(sprays.stream().flatMap(s -> s.join().stream())
                .collect(Collectors.groupingBy(line -> line.replace("Hello from ", ""), Collectors.counting())));
    }

    private static long total(Map<String, Long> byServer) {
        return byServer.values().stream().mapToLong(Long::longValue).sum();
    }

    private static void assertWithinOne(long expected, long actual, String what) {
        assertTrue(Math.abs(actual - expected) <= 1, "expected " + expected + " ± 1, got " + actual + ": " + what);
    }

    /** Only the servers of {@code expected} got connections, each its count ± 1, and none was lost. */
    private static void assertShares(Map<String, Long> expected, Map<String, Long> actual) {
        System.out.println("connections per server: " + actual);
        assertEquals(expected.keySet(), actual.keySet(), "servers reached: " + actual);
        assertEquals(total(expected), total(actual), "connections answered: " + actual);
        expected.forEach((server, count) -> assertWithinOne(count, actual.get(server), server + " in " + actual));
    }

    /** A live node that does not host the entity: changes cross the cluster to reach it. */
    private RunningNode adminNode() {
        String host = view().entityNode();
        return live.stream().map(nodes::get).filter(n -> !address(n).equals(host)).findFirst().orElseThrow();
    }

    private int hostOf(String entityNode) {
        return live.stream().filter(i -> address(nodes.get(i)).equals(entityNode)).findFirst()
                .orElseThrow(() -> new AssertionError("no live node is " + entityNode));
    }

    private static String address(RunningNode node) {
        var address = Cluster.get(node.system()).selfMember().address();
        return address.host().get() + ":" + address.port().get();
    }

    private void change(Function<ActorRef<PoolEntity.AdminResult>, PoolEntity.Command> command) {
        PoolEntity.AdminResult result = ask(adminNode(), command);
        assertTrue(result.ok(), result.message());
    }

    /** The pool as its entity sees it, asked from the first live node. */
    private PoolView view() {
        return ask(nodes.get(live.getFirst()), PoolEntity.GetView::new);
    }

    private static <R> R ask(RunningNode from, Function<ActorRef<R>, PoolEntity.Command> command) {
        try {
            return ClusterSharding.get(from.system()).entityRefFor(PoolEntity.TYPE, POOL).ask(command::apply, ASK)
                    .toCompletableFuture().get(ASK.toSeconds() + 5, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("the pool entity did not answer: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }
}
