package io.actortls.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.LegitClients;
import io.actortls.testkit.ManagementApi;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.ProcessFigures;
import io.actortls.testkit.SClient;
import io.actortls.testkit.SocketSwarm;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.LongSummaryStatistics;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10,000 half-open connections: 5,000 clients connect and send nothing, 5,000 send half a real ClientHello and
 * stop. The node holds them all in bounded memory (RSS and live heap per connection, measured), keeps serving other
 * clients, closes every one of them at the handshake timeout (handshake-timeout), and afterwards holds as many file
 * descriptors as before. A second 10,000 (on a listener with a shorter handshake timeout) reuse the memory the
 * first ones freed: nothing is left behind per connection.
 *
 * <p>The node runs with a fixed, pre-touched heap ({@code -Xms512m -XX:+AlwaysPreTouch}) and G1, as bench/soak.sh
 * runs it, so its RSS grows only with native memory (OpenSSL's objects, thread stacks, code); the heap is measured
 * apart, after a full collection. Each process needs about 10,000 descriptors more than usual: the JVM raises its soft limit to
 * the hard one (20,000 on this project's machines; Debian's default hard limit is 524,288), which is checked first.
 */
class BoundsMemoryFor10000HalfOpenConnectionsTest {
    private static final int SILENT = 5000;
    private static final int HALF_HELLO = 5000;
    private static final int ALL = SILENT + HALF_HELLO;
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(25);
    /**
     * Native memory per half-open connection, measured at about 9.5 KiB for both kinds: an OpenSSL SSL object and
     * its two memory BIOs (with the bytes sent so far), malloc's overhead. OpenSSL's handshake buffers (the
     * handshake message buffer and the record layer's read and write buffers, some 45 KiB together, measured
     * 47 KB per connection before the node waited for the whole first record) must not be among them.
     */
    private static final long RSS_PER_CONNECTION_BOUND = 16 * 1024;
    /**
     * Java heap per connection, measured at 3-4 KiB: the connection actor, its mailbox, timers and message
     * adapter, the socket channel and its selection key, the listener's entries.
     */
    private static final long HEAP_PER_CONNECTION_BOUND = 6 * 1024;
    private static final int FD_SLACK = 20;
    private static final Duration QUICK_HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);
    /** RSS growth allowed over the second 10,000, which should need nothing the first ones had not freed. */
    private static final long SECOND_WAVE_RSS_GROWTH_BOUND_KIB = ALL;

    @TempDir
    Path dir;

    @Test
    void holdsThemInBoundedMemoryAndClosesThemAllAtTheHandshakeTimeout() {
        TestPki pki = new TestPki(dir);
        int port = Tools.freePort();
        byte[] clientHello = SClient.clientHello("-servername", "localhost");
        byte[] half = Arrays.copyOf(clientHello, clientHello.length / 2);
        assertTrue(ProcessFigures.openFilesLimit(ProcessHandle.current().pid()) >= ALL + 2000,
                "this test needs ~12,000 open files per process: raise the hard limit (ulimit -Hn)");
        int quickPort = Tools.freePort();
        try (BackendProcess backend = BackendProcess.start()) {
            Hocon hocon = new Hocon(port)
                    .listener("quick", quickPort, "timeouts { handshake = " + QUICK_HANDSHAKE_TIMEOUT.toSeconds() + "s }")
                    .vhost("localhost", pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost"),
                            List.of("localhost"), List.of(), backend.address())
                    .with("listener-defaults.max-connections = " + (ALL + 1000))
                    .with("timeouts.handshake = " + HANDSHAKE_TIMEOUT.toSeconds() + "s");
            try (NodeProcess node = NodeProcess.start(dir, hocon.render(), Map.of("JAVA_TOOL_OPTIONS", "-Xms512m -XX:+AlwaysPreTouch -XX:+UseG1GC"))) {
                node.awaitReady(Duration.ofSeconds(60));
                long pid = node.pid();
                assertTrue(ProcessFigures.openFilesLimit(pid) >= ALL + 2000, "the node may open too few files: "
                        + ProcessFigures.openFilesLimit(pid));
                ManagementApi api = new ManagementApi(hocon.management());
                LegitClients legit = new LegitClients(pki, port, node);
                warmUp(port, half, legit);
                awaitOpenOnTheNode(api, 0);

                Figures base = Figures.of(pid);
                try (SocketSwarm silent = SocketSwarm.to(port, SILENT).from("127.0.0.67").start()) {
                    silent.awaitOpen(SILENT, Duration.ofSeconds(30));
                    awaitOpenOnTheNode(api, SILENT);
                    Figures withSilent = Figures.of(pid);
                    try (SocketSwarm halfHello = SocketSwarm.to(port, HALF_HELLO).from("127.0.0.68").greeting(half).start()) {
                        halfHello.awaitOpen(HALF_HELLO, Duration.ofSeconds(30));
                        awaitOpenOnTheNode(api, ALL);
                        Figures withAll = Figures.of(pid);
                        List<Long> served = legit.serveFor(Duration.ofSeconds(2));
                        assertEquals(0, silent.closedByNode() + halfHello.closedByNode(),
                                "every half-open connection is still open while we measure; took too long?");

                        long silentRss = (withSilent.rssKib - base.rssKib) * 1024 / SILENT;
                        long halfRss = (withAll.rssKib - withSilent.rssKib) * 1024 / HALF_HELLO;
                        long silentHeap = (withSilent.heapKib - base.heapKib) * 1024 / SILENT;
                        long halfHeap = (withAll.heapKib - withSilent.heapKib) * 1024 / HALF_HELLO;
                        System.out.printf("half-open: base %s; +%d silent %s; +%d half-hello %s; per connection: "
                                        + "silent %d B native + %d B heap, half a ClientHello %d B native + %d B heap; "
                                        + "legit curl ms with %d open: %s%n", base, SILENT, withSilent, HALF_HELLO, withAll,
                                silentRss, silentHeap, halfRss, halfHeap, ALL, LegitClients.describe(served));
                        assertTrue(withAll.fds >= base.fds + ALL, "the node holds every connection: " + withAll);
                        for (long perConnection : List.of(silentRss, halfRss))
                            assertTrue(perConnection < RSS_PER_CONNECTION_BOUND, "native memory per connection: "
                                    + perConnection + " B (silent " + silentRss + ", half a ClientHello " + halfRss + ")");
                        for (long perConnection : List.of(silentHeap, halfHeap))
                            assertTrue(perConnection < HEAP_PER_CONNECTION_BOUND, "heap per connection: "
                                    + perConnection + " B (silent " + silentHeap + ", half a ClientHello " + halfHeap + ")");

                        silent.awaitClosedByNode(SILENT, HANDSHAKE_TIMEOUT.plusSeconds(30));
                        halfHello.awaitClosedByNode(HALF_HELLO, Duration.ofSeconds(30));
                        LongSummaryStatistics lived = List.of(silent, halfHello).stream()
                                .flatMap(s -> s.lifetimesMillis().stream()).mapToLong(Long::longValue).summaryStatistics();
                        // As the clients see it: 10,000 closes at once, on a machine that may be busy.
                        assertTrue(lived.getMin() >= HANDSHAKE_TIMEOUT.toMillis() - 200
                                        && lived.getMax() <= HANDSHAKE_TIMEOUT.toMillis() + 10_000,
                                "half-open connections lived " + lived + " ms; timeouts.handshake is " + HANDSHAKE_TIMEOUT.toMillis());
                        System.out.printf("half-open: closed after %d-%d ms%n", lived.getMin(), lived.getMax());
                    }
                }
                // The clients see their close a moment before the listener counts it.
                awaitOpenOnTheNode(api, 0);
                assertEquals(ALL, api.metric("actortls_connections_closed_total{reason=\"handshake-timeout\"}"));
                Figures after = awaitDescriptorsBackTo(pid, base.fds + FD_SLACK);

                wave(2, quickPort, half, api);
                Figures afterSecond = awaitDescriptorsBackTo(pid, base.fds + FD_SLACK);
                System.out.printf("half-open: after all closed %s; after 10,000 more %s%n", after, afterSecond);
                Figures settled = afterSecond;
                if (afterSecond.rssKib - after.rssKib >= SECOND_WAVE_RSS_GROWTH_BOUND_KIB) {
                    // glibc may still be spreading the new threads' allocations over its arenas (seen once in CI:
                    // +10.4 MiB, against 0.3-0.6 MiB in other runs). A leak grows again with every wave; that does not.
                    wave(3, quickPort, half, api);
                    settled = awaitDescriptorsBackTo(pid, base.fds + FD_SLACK);
                    System.out.printf("half-open: after a third 10,000 %s%n", settled);
                    after = afterSecond;
                }
                assertTrue(settled.rssKib - after.rssKib < SECOND_WAVE_RSS_GROWTH_BOUND_KIB, "RSS grew from " + after
                        + " to " + settled + " over a further 10,000 half-open connections");
                assertTrue(settled.heapKib - base.heapKib < 5 * 1024, "live heap " + base + " before, " + settled + " after");
            }
        }
    }

    /** What the node holds: RSS, live heap after a full collection, and file descriptors. */
    private record Figures(long rssKib, long heapKib, int fds) {
        static Figures of(long pid) {
            long heap = ProcessFigures.liveHeapKib(pid);
            return new Figures(ProcessFigures.rssKib(pid), heap, ProcessFigures.fileDescriptors(pid));
        }

        @Override
        public String toString() {
            return "RSS " + rssKib + " KiB, live heap " + heapKib + " KiB, " + fds + " fds";
        }
    }

    /**
     * Classes, code and pools that the first connections of each kind bring in are not per-connection costs: a
     * few hundred of each come and go before the baseline.
     */
    private static void warmUp(int port, byte[] half, LegitClients legit) {
        for (int i = 0; i < 3; i++) legit.serveOne();
        try (SocketSwarm silent = SocketSwarm.to(port, 300).from("127.0.0.67").start();
             SocketSwarm halfHello = SocketSwarm.to(port, 300).from("127.0.0.68").greeting(half).start()) {
            silent.awaitOpen(300, Duration.ofSeconds(20));
            halfHello.awaitOpen(300, Duration.ofSeconds(20));
        }
    }

    /** 10,000 more on the quick listener: opened, then all closed by the node at its handshake timeout. */
    /** The {@code n}th 10,000 (from addresses of its own), all closed at the handshake timeout. */
    private static void wave(int n, int port, byte[] half, ManagementApi api) {
        try (SocketSwarm silent = SocketSwarm.to(port, SILENT).from("127.0.0." + (66 + 2 * n)).start();
             SocketSwarm halfHello = SocketSwarm.to(port, HALF_HELLO).from("127.0.0." + (67 + 2 * n)).greeting(half).start()) {
            silent.awaitClosedByNode(SILENT, QUICK_HANDSHAKE_TIMEOUT.plusSeconds(60));
            halfHello.awaitClosedByNode(HALF_HELLO, QUICK_HANDSHAKE_TIMEOUT.plusSeconds(30));
        }
        awaitOpenOnTheNode(api, 0);
        assertEquals(n * ALL, api.metric("actortls_connections_closed_total{reason=\"handshake-timeout\"}"));
    }

    private static void awaitOpenOnTheNode(ManagementApi api, int expected) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        double open;
        while ((open = api.metric("actortls_connections_open")) != expected) {
            if (System.nanoTime() > deadline) throw new AssertionError("the node holds " + open + " connections, not " + expected);
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
    }

    private static Figures awaitDescriptorsBackTo(long pid, int most) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (ProcessFigures.fileDescriptors(pid) > most) {
            if (System.nanoTime() > deadline)
                throw new AssertionError("the node still holds " + ProcessFigures.fileDescriptors(pid) + " fds, more than " + most);
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        return Figures.of(pid);
    }
}
