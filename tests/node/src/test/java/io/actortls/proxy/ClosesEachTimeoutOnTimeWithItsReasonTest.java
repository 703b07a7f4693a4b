package io.actortls.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.HoldingClient;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.Run;
import io.actortls.testkit.Sockets;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Each connection limit closes the connection it applies to within 10% of its setting, as the node measures it
 * (the close record's duration_ms, from accept) and as the client sees it, and counts the close under the limit's
 * own reason, in the close record and in the listener's periodic stats; a healthy connection open beside it, on a
 * vhost and pool without the short limits, runs to its end untouched. The limits are set where the configuration
 * says each may be: handshake globally, client-idle and lifetime on a vhost, backend-idle on a pool, tcp-keepalive
 * on a listener (which arms the kernel's keepalive timer on the client's socket and on the backend's).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClosesEachTimeoutOnTimeWithItsReasonTest {
    private static final Duration HANDSHAKE = Duration.ofSeconds(2);
    private static final Duration CLIENT_IDLE = Duration.ofSeconds(2);
    private static final Duration BACKEND_IDLE = Duration.ofSeconds(2);
    private static final Duration LIFETIME = Duration.ofSeconds(3);
    private static final Duration KEEPALIVE = Duration.ofSeconds(7);
    /** client-idle and backend-idle wherever no short one is set: far beyond anything a test here waits for. */
    private static final Duration LONG_IDLE = Duration.ofSeconds(20);
    private static final double TOLERANCE = 0.10;
    /** What the timed-out clients ask the backend to hold: longer than any limit, so only a limit ends them. */
    private static final int HOLD_SECONDS = 30;
    /** How long the keepalive test's connections are held: time to read their sockets, well before 7 s. */
    private static final int KEEPALIVE_CONNECTION_SECONDS = 4;
    private static final Duration ANSWER_BOUND = Duration.ofSeconds(15);
    private static final Duration CLOSE_BOUND = Duration.ofSeconds(15);
    /** The longest any one connection of these tests is waited for. */
    private static final Duration LIFETIME_OF_A_TEST = Duration.ofSeconds(40);
    private static final Pattern TIMER = Pattern.compile("timer:\\((\\w+),([^,]+),(\\d+)\\)");

    private Path dir;
    private TestPki pki;
    private DemoBackendProcess backend;
    /** Only the keepalive test's connections reach it, so its sockets on the node are theirs. */
    private DemoBackendProcess keepaliveBackend;
    private TestCluster cluster;
    private NodeProcess node;
    private int port;
    private int keepalivePort;

    @BeforeAll
    void start() throws IOException {
        dir = Files.createTempDirectory("timeouts");
        pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("timeouts", TestPki.KeyType.EC_P256,
                "healthy.test", "idle-client.test", "idle-backend.test", "lifetime.test", "keepalive.test");
        backend = DemoBackendProcess.start("backend-1");
        keepaliveBackend = DemoBackendProcess.start("backend-ka");
        keepalivePort = Tools.freePort();
        cluster = TestCluster.start(dir, 1, (i, hocon) -> hocon
                .listener("keepalive", keepalivePort, "timeouts { tcp-keepalive = %ds }".formatted(KEEPALIVE.toSeconds()))
                .with("timeouts { handshake = %ds, client-idle = %ds, backend-idle = %ds }"
                        .formatted(HANDSHAKE.toSeconds(), LONG_IDLE.toSeconds(), LONG_IDLE.toSeconds()))
                .with("log.stats-interval = 1s")
                .pooledVhost("healthy", cert, List.of("healthy.test"), "healthy")
                .pooledVhost("idle-client", cert, List.of("idle-client.test"), "idle-client",
                        "timeouts { client-idle = %ds }".formatted(CLIENT_IDLE.toSeconds()))
                .pooledVhost("idle-backend", cert, List.of("idle-backend.test"), "idle-backend")
                .pooledVhost("lifetime", cert, List.of("lifetime.test"), "lifetime",
                        "timeouts { lifetime = %ds }".formatted(LIFETIME.toSeconds()))
                .pooledVhost("keepalive", cert, List.of("keepalive.test"), "keepalive")
                .defaultVhost("healthy")
                .pool("healthy", List.of(backend.server(1)))
                .pool("idle-client", List.of(backend.server(1)))
                .pool("idle-backend", List.of(backend.server(1)),
                        "timeouts { backend-idle = %ds }".formatted(BACKEND_IDLE.toSeconds()))
                .pool("lifetime", List.of(backend.server(1)))
                .pool("keepalive", List.of(keepaliveBackend.server(1)))
                .render());
        node = cluster.member(1).process();
        port = cluster.member(1).tlsPort();
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        if (keepaliveBackend != null) keepaliveBackend.close();
        if (backend != null) backend.close();
    }

    @Test
    void aClientThatSendsNothingIsClosedAfterTheHandshakeTimeout() throws IOException {
        int before = node.closes().size();
        try (HoldingClient healthy = openHealthy(HANDSHAKE); Socket silent = new Socket()) {
            long start = System.nanoTime();
            silent.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            int received = Sockets.readUntilClosed(silent, CLOSE_BOUND).length;
            Duration clientSide = since(start);

            assertHealthyUntouched(healthy);
            JsonNode close = awaitNewClose(before, "handshake-timeout");
            report("handshake-timeout", HANDSHAKE, "client connect to close " + clientSide.toMillis() + " ms, duration_ms "
                    + close.path("duration_ms").asLong());
            assertWithin(HANDSHAKE, clientSide, "the client saw its connection closed");
            assertWithin(HANDSHAKE, Duration.ofMillis(close.path("duration_ms").asLong()), "duration_ms of " + close);
            assertEquals(0, received, "the node has nothing to say to a client that said nothing");
            assertEquals(0, close.path("client_bytes_in").asLong(), close.toString());
            assertTrue(close.path("pool").isNull(), "no pool before the handshake: " + close);
            assertOnlyTheseClosed(before, "handshake-timeout");
        }
    }

    @Test
    void aQuietClientIsClosedAfterItsVhostsClientIdle() {
        assertIdleClose("idle-client.test", "idle-client", CLIENT_IDLE);
    }

    @Test
    void aQuietBackendIsClosedAfterItsPoolsBackendIdle() {
        assertIdleClose("idle-backend.test", "idle-backend", BACKEND_IDLE);
    }

    /**
     * Nothing flows after the backend's first chunk, so the connection's quiet time starts when the client has it:
     * the client measures from there to the close, and the node's duration_ms (from accept) less the time from
     * starting the client to that chunk is the same quiet time as the node saw it (a little less: the client
     * started before the node accepted).
     */
    private void assertIdleClose(String host, String reason, Duration limit) {
        int before = node.closes().size();
        try (HoldingClient healthy = openHealthy(limit)) {
            long start = System.nanoTime();
            try (HoldingClient quiet = HoldingClient.open(pki.caCertificate(), host, port, HOLD_SECONDS)) {
                assertEquals(backend.name(), quiet.awaitServer(ANSWER_BOUND));
                long lastByte = System.nanoTime();
                int exit = quiet.awaitEnd(LIFETIME_OF_A_TEST);
                Duration quietTime = since(lastByte);
                Duration setup = Duration.ofNanos(lastByte - start);

                assertHealthyUntouched(healthy);
                assertNotEquals(0, exit, "curl got the whole held response; it should have been cut off: " + quiet.stderrText());
                JsonNode close = awaitNewClose(before, reason);
                Duration nodeQuiet = Duration.ofMillis(close.path("duration_ms").asLong()).minus(setup);
                report(reason, limit, "client first chunk to close " + quietTime.toMillis() + " ms, duration_ms "
                        + close.path("duration_ms").asLong() + " less setup " + setup.toMillis() + " ms = " + nodeQuiet.toMillis() + " ms");
                assertWithin(limit, quietTime, "the client's quiet time before the close");
                assertWithin(limit, nodeQuiet, "the node's quiet time (duration_ms less setup) in " + close);
                assertEquals(reason, close.path("pool").asText(), "the vhost's pool is named after the limit: " + close);
                assertEquals(backend.name(), close.path("server").asText(), close.toString());
                assertOnlyTheseClosed(before, reason);
            }
        }
    }

    @Test
    void aHeldConnectionIsClosedAtItsVhostsLifetime() {
        int before = node.closes().size();
        try (HoldingClient healthy = openHealthy(LIFETIME)) {
            long start = System.nanoTime();
            try (HoldingClient held = HoldingClient.open(pki.caCertificate(), "lifetime.test", port, HOLD_SECONDS)) {
                assertEquals(backend.name(), held.awaitServer(ANSWER_BOUND));
                int exit = held.awaitEnd(LIFETIME_OF_A_TEST);
                Duration clientSide = since(start);

                assertHealthyUntouched(healthy);
                assertNotEquals(0, exit, "curl got the whole held response; it should have been cut off: " + held.stderrText());
                JsonNode close = awaitNewClose(before, "lifetime");
                report("lifetime", LIFETIME, "client start to close " + clientSide.toMillis() + " ms, duration_ms "
                        + close.path("duration_ms").asLong());
                assertWithin(LIFETIME, clientSide, "the client's whole connection");
                assertWithin(LIFETIME, Duration.ofMillis(close.path("duration_ms").asLong()), "duration_ms of " + close);
                assertEquals("lifetime", close.path("vhost").asText(), close.toString());
                assertOnlyTheseClosed(before, "lifetime");
            }
        }
    }

    @Test
    void tcpKeepaliveOnAListenerArmsTheKernelsTimerOnClientAndBackendSockets() {
        // Through the listener with tcp-keepalive: both of the node's sockets have the timer, at most 7 s away.
        SocketsOnTheNode with = socketsOfOneConnection(keepalivePort);
        report("tcp-keepalive", KEEPALIVE, "client socket: " + with.client() + " | backend socket: " + with.backend()
                + " | " + with.age().toMillis() + " ms after curl started");
        assertKeepaliveTimer(with.client(), with.age(), "the node's socket to the client");
        assertKeepaliveTimer(with.backend(), with.age(), "the node's socket to the backend");

        // Through the listener without it: neither has one.
        SocketsOnTheNode without = socketsOfOneConnection(port);
        report("no tcp-keepalive", Duration.ZERO, "client socket: " + without.client() + " | backend socket: " + without.backend());
        assertFalse(without.client().contains("keepalive"), "the node's socket to the client: " + without.client());
        assertFalse(without.backend().contains("keepalive"), "the node's socket to the backend: " + without.backend());
    }

    /** What ss shows for the node's two sockets of one connection, {@code age} after its client started. */
    private record SocketsOnTheNode(String client, String backend, Duration age) {}

    /**
     * Opens one connection to the keepalive backend through {@code listenerPort}, from a client port of our choosing,
     * and reads its sockets while the backend holds the response. The response then ends by itself, so the
     * connection closes as a client-closed one (a client killed mid-response would leave the node waiting on the
     * holding backend until backend-idle) and the next call finds only its own sockets.
     */
    private SocketsOnTheNode socketsOfOneConnection(int listenerPort) {
        int clientPort = Tools.freePort();
        long start = System.nanoTime();
        try (HoldingClient client = HoldingClient.open(pki.caCertificate(), "keepalive.test", listenerPort,
                KEEPALIVE_CONNECTION_SECONDS, "--local-port", Integer.toString(clientPort))) {
            assertEquals(keepaliveBackend.name(), client.awaitServer(ANSWER_BOUND));
            String clientSocket = theOneEstablished("( sport = :" + listenerPort + " and dport = :" + clientPort + " )");
            String backendSocket = theOneEstablished("( dport = :" + keepaliveBackend.port() + " )");
            Duration age = since(start);
            assertTrue(client.isOpen(), "the connection ended while its sockets were looked at: " + client.stderrText());
            assertEquals(0, client.awaitEnd(LIFETIME_OF_A_TEST), "the held response was cut off: " + client.stderrText());
            awaitNoneEstablished("( dport = :" + keepaliveBackend.port() + " )");
            return new SocketsOnTheNode(clientSocket, backendSocket, age);
        }
    }

    /**
     * The timer was armed when the option was set, on accept or on connect, and counts down the idle time from
     * there (traffic since then does not move it until it fires): so it shows at most 7 s, and at least 7 s less
     * the time since the client started, within 10%.
     */
    private static void assertKeepaliveTimer(String socket, Duration age, String which) {
        Matcher timer = TIMER.matcher(socket);
        assertTrue(timer.find() && timer.group(1).equals("keepalive"), which + " has no keepalive timer: " + socket);
        Duration left = ssDuration(timer.group(2));
        Duration slack = Duration.ofMillis((long) (KEEPALIVE.toMillis() * TOLERANCE));
        assertTrue(left.compareTo(KEEPALIVE) <= 0 && left.compareTo(KEEPALIVE.minus(age).minus(slack)) >= 0,
                which + ": keepalive due in " + left.toMillis() + " ms, " + age.toMillis() + " ms after the client started; "
                        + "tcp-keepalive is " + KEEPALIVE.toMillis() + " ms: " + socket);
        assertEquals("0", timer.group(3), which + " has sent keepalive probes already: " + socket);
    }

    /** ss's time left: "6sec", "6.312ms" (6 s 312 ms), "312ms", "1min6.312ms". */
    private static Duration ssDuration(String text) {
        Matcher m = Pattern.compile("(?:(\\d+)min)?(?:(\\d+)sec|(\\d+)\\.)?(?:(\\d+)ms)?").matcher(text);
        assertTrue(!text.isEmpty() && m.matches(), "not an ss time: " + text);
        long minutes = m.group(1) == null ? 0 : Long.parseLong(m.group(1));
        long seconds = m.group(2) != null ? Long.parseLong(m.group(2)) : m.group(3) != null ? Long.parseLong(m.group(3)) : 0;
        long millis = m.group(4) == null ? 0 : Long.parseLong(m.group(4));
        return Duration.ofMinutes(minutes).plusSeconds(seconds).plusMillis(millis);
    }

    private static List<String> established(String filter) {
        Run run = Run.of(List.of("ss", "-Htnoe", "state", "established", filter), null, Duration.ofSeconds(10));
        assertEquals(0, run.exitCode(), "ss failed: " + run.stderr());
        return run.out().lines().filter(line -> !line.isBlank()).toList();
    }

    /**
     * ss shows one timer per socket: while sent bytes wait for their ACK it shows the retransmission timer
     * ("on") instead of keepalive, so a busy moment is sampled again (at most 20 times, 100 ms apart).
     */
    private static String theOneEstablished(String filter) {
        for (int attempt = 1; ; attempt++) {
            List<String> sockets = established(filter);
            assertEquals(1, sockets.size(), "established sockets matching " + filter + ": " + sockets);
            if (!sockets.getFirst().contains("timer:(on,") || attempt == 20) return sockets.getFirst();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private static void awaitNoneEstablished(String filter) {
        long deadline = System.nanoTime() + CLOSE_BOUND.toNanos();
        while (!established(filter).isEmpty()) {
            if (System.nanoTime() > deadline)
                throw new AssertionError("still established after " + CLOSE_BOUND + ": " + established(filter));
            sleep(100);
        }
    }

    // ---- the healthy connection beside each timed-out one -------------------------------------------------------

    /**
     * A connection on a vhost and pool with none of the short limits, held two seconds beyond {@code limit} (it
     * stays quiet all along, so it outlives the idle limits of the other vhost and pool too).
     */
    private HoldingClient openHealthy(Duration limit) {
        HoldingClient healthy = HoldingClient.open(pki.caCertificate(), "healthy.test", port, (int) limit.toSeconds() + 2);
        assertEquals(backend.name(), healthy.awaitServer(ANSWER_BOUND));
        return healthy;
    }

    /** Still open when the other connection was closed, and its response then ran to its end. */
    private static void assertHealthyUntouched(HoldingClient healthy) {
        assertTrue(healthy.isOpen(), "the healthy connection was closed too: " + healthy.stderrText());
        assertEquals(0, healthy.awaitEnd(LIFETIME_OF_A_TEST), "the healthy connection's response was cut off: "
                + healthy.stderrText());
    }

    // ---- close records and counts ------------------------------------------------------------------------------

    /** The first close record for {@code reason} among those logged from the {@code before}-th on. */
    private JsonNode awaitNewClose(int before, String reason) {
        long deadline = System.nanoTime() + CLOSE_BOUND.toNanos();
        while (true) {
            List<JsonNode> all = node.closes();
            for (JsonNode close : all.subList(before, all.size()))
                if (reason.equals(close.path("reason").asText())) return close;
            if (System.nanoTime() > deadline)
                throw new AssertionError("no " + reason + " close within " + CLOSE_BOUND + "; since the test began: "
                        + all.subList(before, all.size()) + "\n" + node.output());
            sleep(50);
        }
    }

    /**
     * Since {@code before}: one close for {@code reason}, and one client-closed for the healthy connection, whose
     * client ended it after the complete response; and the listener's stats count every {@code reason} close.
     */
    private void assertOnlyTheseClosed(int before, String reason) {
        // The keepalive test's held responses end on their own, possibly during a later test: not this test's closes.
        List<String> closed = List.of();
        long deadline = System.nanoTime() + CLOSE_BOUND.toNanos();
        while (closed.size() < 2 && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
            List<JsonNode> all = node.closes();
            closed = all.subList(Math.min(before, all.size()), all.size()).stream()
                    .filter(c -> !c.path("vhost").asText().equals("keepalive"))
                    .map(c -> c.path("vhost").asText() + ":" + c.path("reason").asText()).sorted().toList();
        }
        String timedOutVhost = reason.equals("handshake-timeout") ? "null" : reason;
        assertEquals(List.of("healthy:client-closed", timedOutVhost + ":" + reason).stream().sorted().toList(), closed,
                "connections closed during the test");
        long counted = node.closes(reason).size();
        node.awaitRecord("listener stats", 0, stats -> stats.path("listener").asText().equals("test")
                        && stats.path("closed").path(reason).asLong() == counted, CLOSE_BOUND,
                "the listener's stats counting " + counted + " " + reason);
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private static void assertWithin(Duration limit, Duration measured, String what) {
        long tolerance = (long) (limit.toMillis() * TOLERANCE);
        assertTrue(Math.abs(measured.toMillis() - limit.toMillis()) <= tolerance,
                what + ": " + measured.toMillis() + " ms, limit " + limit.toMillis() + " ms ± " + tolerance + " ms");
    }

    private static void report(String limit, Duration setting, String measured) {
        System.out.printf("%s (%d ms): %s%n", limit, setting.toMillis(), measured);
    }

    private static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
