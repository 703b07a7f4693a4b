package io.actortls.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.Tools;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

/**
 * TCP checks against real sockets on 127.0.0.1: a listening port is up, a closed one down; the first check decides
 * alone, later changes take {@code fall} failures or {@code rise} passes, and a server that goes away is reported down
 * within fall × interval (plus the jitter) + timeout.
 */
class HealthCheckerMarksTcpServersUpAndDownTest extends ActorTestKitPerClass {
    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static final Duration TIMEOUT = Duration.ofMillis(300);
    private static final int RISE = 2;
    private static final int FALL = 3;
    private static final HealthCheckSettings TCP = HealthCheckSettings.tcp(INTERVAL, TIMEOUT, RISE, FALL);

    @Test
    void listeningServerIsUpAtTheFirstCheckAndDownWithinTheBoundAfterItCloses() throws Exception {
        int port = Tools.freePort();
        TestProbe<HealthChecker.Report> reports = testKit.createTestProbe(HealthChecker.Report.class);
        ServerSocket server = listen(port);
        try {
            long started = System.nanoTime();
            ActorRef<HealthChecker.Command> checker = testKit.spawn(
                    HealthChecker.create("tcp-a", "127.0.0.1", port, TCP, reports.getRef()));
            // rise is 2, but the first check decides alone.
            reports.expectMessage(WAIT, new HealthChecker.Report("tcp-a", true, "1 check passed"));
            assertTrue(millisSince(started) < INTERVAL.toMillis(), "the first check should run at once");
            reports.expectNoMessage(INTERVAL.multipliedBy(3)); // still up: no repeated report

            server.close();
            long closed = System.nanoTime();
            reports.expectMessage(WAIT, new HealthChecker.Report("tcp-a", false, "connect refused"));
            long tookMillis = millisSince(closed);
            // fall checks, the first within one interval of the close, each interval up to 5% late, each within the timeout.
            long bound = (long) (FALL * INTERVAL.toMillis() * 1.05) + TIMEOUT.toMillis();
            assertTrue(tookMillis <= bound, "down after " + tookMillis + " ms, more than fall × interval + timeout = " + bound + " ms");
            // ... and not after fewer than fall failures: they are at least (fall - 1) intervals (less 5%) apart.
            long atLeast = (long) ((FALL - 1) * INTERVAL.toMillis() * 0.95) - 20;
            assertTrue(tookMillis >= atLeast, "down after " + tookMillis + " ms: fewer than " + FALL + " failed checks?");

            server = listen(port);
            long reopened = System.nanoTime();
            reports.expectMessage(WAIT, new HealthChecker.Report("tcp-a", true, RISE + " checks passed"));
            long upMillis = millisSince(reopened);
            assertTrue(upMillis >= (long) ((RISE - 1) * INTERVAL.toMillis() * 0.95) - 20,
                    "up after " + upMillis + " ms: fewer than " + RISE + " passed checks?");
            testKit.stop(checker, WAIT);
        } finally {
            server.close();
        }
    }

    @Test
    void closedPortIsDownAtTheFirstCheck() {
        int port = Tools.freePort(); // nothing listens there
        TestProbe<HealthChecker.Report> reports = testKit.createTestProbe(HealthChecker.Report.class);
        long started = System.nanoTime();
        ActorRef<HealthChecker.Command> checker = testKit.spawn(
                HealthChecker.create("tcp-b", "127.0.0.1", port, TCP, reports.getRef()));
        reports.expectMessage(WAIT, new HealthChecker.Report("tcp-b", false, "connect refused"));
        assertTrue(millisSince(started) < INTERVAL.toMillis(), "fall is 3, but the first check should decide alone, at once");
        reports.expectNoMessage(INTERVAL.multipliedBy(3));
        testKit.stop(checker, WAIT);
    }

    @Test
    void unknownHostIsAFailedCheckNotACrash() {
        TestProbe<HealthChecker.Report> reports = testKit.createTestProbe(HealthChecker.Report.class);
        ActorRef<HealthChecker.Command> checker = testKit.spawn(
                HealthChecker.create("tcp-c", "no-such-host.invalid", 80, TCP, reports.getRef()));
        HealthChecker.Report report = reports.receiveMessage(WAIT);
        assertEquals(false, report.up());
        assertTrue(report.reason().startsWith("unknown host") || report.reason().startsWith("timeout"), report.reason());
        testKit.stop(checker, WAIT);
    }

    private static ServerSocket listen(int port) throws IOException {
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        return server; // never accepts: the kernel completes the handshakes, which is all a TCP check needs
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }
}
