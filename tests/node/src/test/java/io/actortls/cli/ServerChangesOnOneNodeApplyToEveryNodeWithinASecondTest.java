package io.actortls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.Cli;
import io.actortls.testkit.Curl;
import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The issue's requirement: {@code server weight} and {@code server drain} issued on node 1 change which server
 * nodes 2 and 3 send new connections to within a second of the command's return; enable, add and remove too.
 * The pool "demo" is decided by its entity (scope cluster); "edge" by each node from the entity's last view
 * (scope node), so for it the change travels to every node's gateway.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServerChangesOnOneNodeApplyToEveryNodeWithinASecondTest {
    @TempDir
    static Path dir;
    private static final long WITHIN_MILLIS = 1000;
    private static final int BATCH = 2;
    private TestCluster cluster;
    private Path ca;
    private final List<DemoBackendProcess> backends = new ArrayList<>();
    private final List<String> management = new ArrayList<>();

    @BeforeAll
    void startCluster() {
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("changes", TestPki.KeyType.EC_P256, "demo.test", "edge.test");
        ca = pki.caCertificate();
        for (int i = 1; i <= 3; i++) backends.add(DemoBackendProcess.start("backend-" + i));
        List<String> servers = List.of(backends.get(0).server(1), backends.get(1).server(1));
        cluster = TestCluster.start(dir, 3, (i, hocon) -> {
            management.add(hocon.management());
            return hocon.pooledVhost("demo", cert, List.of("demo.test"), "demo")
                    .pooledVhost("edge", cert, List.of("edge.test"), "edge")
                    .defaultVhost("demo")
                    .pool("demo", servers, "scope = \"cluster\"", "pick-timeout = 3s")
                    .pool("edge", servers, "scope = \"node\"")
                    .render();
        });
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        backends.forEach(DemoBackendProcess::close);
    }

    @Test
    void drainOnNodeOneStopsNewConnectionsToTheServerOnNodesTwoAndThreeWithinASecondAndEnableBringsItBack() {
        for (String host : List.of("demo.test", "edge.test")) {
            String pool = host.substring(0, host.indexOf('.'));
            List<List<String>> before = batches(host);
            assertTrue(before.stream().allMatch(b -> b.contains("Hello from backend-1")), "before: " + before);

            long delay = changeAndMeasure(host, List.of("server", "drain", pool, "backend-1"),
                    none("Hello from backend-1"));
            System.out.printf("drain of %s/backend-1 on node 1 took effect on nodes 2 and 3 within %d ms%n", pool, delay);

            long back = changeAndMeasure(host, List.of("server", "enable", pool, "backend-1"),
                    some("Hello from backend-1"));
            System.out.printf("enable of %s/backend-1 on node 1 took effect on nodes 2 and 3 within %d ms%n", pool, back);
        }
    }

    @Test
    void weightOnNodeOneMovesNewConnectionsOnNodesTwoAndThreeWithinASecond() {
        // 1:1 alternates, so a round always reaches both; 1:1000 sends a whole round to backend-2.
        try {
            long delay = changeAndMeasure("demo.test", List.of("server", "weight", "demo", "backend-2", "1000"),
                    round -> round.stream().allMatch(batch -> batch.stream().allMatch(l -> l.equals("Hello from backend-2"))));
            System.out.printf("weight of demo/backend-2 set on node 1 took effect on nodes 2 and 3 within %d ms%n", delay);
            Cli.Result show = Cli.against(management.get(2), Hocon.MANAGEMENT_TOKEN, "pools", "show", "demo", "--json");
            assertEquals(0, show.exitCode(), show.toString());
            assertEquals(1000, show.json().get("servers").get(1).get("weight").asInt(), show.out());
            assertEquals(1, show.json().get("servers").get(1).get("configuredWeight").asInt(), show.out());
        } finally {
            Cli.Result restore = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "server", "weight", "demo", "backend-2", "1");
            assertEquals(0, restore.exitCode(), restore.toString());
        }
    }

    @Test
    void addedServerGetsNewConnectionsOnEveryNodeAndARemovedOneNoMore() {
        DemoBackendProcess third = backends.get(2);
        long added = changeAndMeasure("demo.test", List.of("server", "add", "demo", "backend-3", third.address(),
                "--weight", "1000"), each("Hello from backend-3"));
        System.out.printf("backend-3 added on node 1 got connections on nodes 2 and 3 within %d ms%n", added);
        for (int node = 1; node <= 3; node++)
            assertTrue(Curl.onNewConnections(ca, "demo.test", cluster.member(node).tlsPort(), "/", 2)
                    .contains("Hello from backend-3"), "node " + node);

        long removed = changeAndMeasure("demo.test", List.of("server", "remove", "demo", "backend-3"),
                none("Hello from backend-3"));
        System.out.printf("backend-3 removed on node 1 got no more connections on nodes 2 and 3 within %d ms%n", removed);
        Cli.Result show = Cli.against(management.get(1), Hocon.MANAGEMENT_TOKEN, "pools", "show", "demo", "--json");
        assertEquals(0, show.exitCode(), show.toString());
        assertEquals(2, show.json().get("servers").size(), show.out());
    }

    /**
     * Runs the CLI command against node 1, then opens rounds of new connections through nodes 2 and 3 at once
     * (a batch on each) until a round shows the new behaviour; returns how long after the command returned that
     * round was done (an upper bound on when the change took effect on both), and fails if that was more than a
     * second, or never within 10 s. Before the change, every round would show the old behaviour: round robin
     * over 1:1 sends one of each two consecutive picks (per node, and per pool entity) to each server.
     */
    private long changeAndMeasure(String host, List<String> command, Predicate<List<List<String>>> changed) {
        List<String> args = new ArrayList<>(command);
        args.add("--json");
        long issued = System.nanoTime();
        Cli.Result result = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, args.toArray(String[]::new));
        long returned = System.nanoTime();
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.json().get("ok").asBoolean(), result.out());
        List<String> history = new ArrayList<>();
        long delay = -1;
        while (delay < 0 && System.nanoTime() - returned < 10_000_000_000L) {
            long started = System.nanoTime();
            var onTwo = CompletableFuture.supplyAsync(() -> Curl.onNewConnections(ca, host, cluster.member(2).tlsPort(), "/", BATCH));
            var onThree = CompletableFuture.supplyAsync(() -> Curl.onNewConnections(ca, host, cluster.member(3).tlsPort(), "/", BATCH));
            List<List<String>> round = List.of(onTwo.join(), onThree.join());
            long done = (System.nanoTime() - returned) / 1_000_000;
            history.add("round from " + (started - returned) / 1_000_000 + " to " + done + " ms: " + round);
            if (changed.test(round)) delay = done;
        }
        assertTrue(delay >= 0, command + " never took effect: " + history);
        assertTrue(delay <= WITHIN_MILLIS, command + " took effect after " + delay + " ms: " + history);
        System.out.printf("%s: the CLI took %d ms; ", command, (returned - issued) / 1_000_000);
        return delay;
    }

    private static Predicate<List<List<String>>> none(String line) {
        return round -> round.stream().noneMatch(batch -> batch.contains(line));
    }

    /** Batches run at once interleave at a cluster-wide entity: either node's batch may take both turns. */
    private static Predicate<List<List<String>>> some(String line) {
        return round -> round.stream().anyMatch(batch -> batch.contains(line));
    }

    private static Predicate<List<List<String>>> each(String line) {
        return round -> round.stream().allMatch(batch -> batch.contains(line));
    }

    /** One batch of new connections through each node. */
    private List<List<String>> batches(String host) {
        List<List<String>> out = new ArrayList<>();
        for (int node = 1; node <= 3; node++)
            out.add(Curl.onNewConnections(ca, host, cluster.member(node).tlsPort(), "/", BATCH));
        return out;
    }
}
