package io.actortls.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.actortls.testkit.Tools;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

/**
 * HTTP checks against a real HTTP server on 127.0.0.1: the expected status is up, any other down after
 * {@code fall} checks, back up after {@code rise}; and the request is exactly the configured one.
 */
class HealthCheckerFollowsHttpStatusTest extends ActorTestKitPerClass {
    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static final Duration TIMEOUT = Duration.ofMillis(500);
    private static final int RISE = 2;
    private static final int FALL = 3;

    @Test
    void upOn200DownAfterFall503sUpAfterRise200s() throws Exception {
        int port = Tools.freePort();
        AtomicInteger status = new AtomicInteger(200);
        AtomicInteger served503 = new AtomicInteger();
        AtomicInteger served200 = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        server.createContext("/health", exchange -> {
            exchange.getRequestBody().readAllBytes();
            int answer = status.get();
            (answer == 503 ? served503 : served200).incrementAndGet(); // before the checker can see the answer
            exchange.sendResponseHeaders(answer, -1);
            exchange.close();
        });
        server.start();
        try {
            HealthCheckSettings http = HealthCheckSettings.http(INTERVAL, TIMEOUT, RISE, FALL, "/health", null, 200);
            TestProbe<HealthChecker.Report> reports = testKit.createTestProbe(HealthChecker.Report.class);
            ActorRef<HealthChecker.Command> checker = testKit.spawn(
                    HealthChecker.create("web-1", "127.0.0.1", port, http, reports.getRef()));
            reports.expectMessage(WAIT, new HealthChecker.Report("web-1", true, "1 check passed"));

            status.set(503);
            reports.expectMessage(WAIT, new HealthChecker.Report("web-1", false, "HTTP 503"));
            int failures = served503.get();
            // A check is answered before its verdict arrives, and the next starts an interval later.
            assertTrue(failures >= FALL && failures <= FALL + 1, "down after " + failures + " HTTP 503 answers, fall is " + FALL);

            served200.set(0);
            status.set(200);
            reports.expectMessage(WAIT, new HealthChecker.Report("web-1", true, RISE + " checks passed"));
            int passes = served200.get();
            assertTrue(passes >= RISE && passes <= RISE + 1, "up after " + passes + " HTTP 200 answers, rise is " + RISE);
            reports.expectNoMessage(INTERVAL.multipliedBy(2));
            testKit.stop(checker, WAIT);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void sendsTheConfiguredPathAndHostAndComparesTheConfiguredStatus() throws Exception {
        try (RecordingServer server = new RecordingServer("HTTP/1.1 204 No Content\r\n\r\n")) {
            HealthCheckSettings http = HealthCheckSettings.http(INTERVAL, TIMEOUT, 1, 1, "/status?deep=1", "api.example.test", 204);
            TestProbe<HealthChecker.Report> reports = testKit.createTestProbe(HealthChecker.Report.class);
            ActorRef<HealthChecker.Command> checker = testKit.spawn(
                    HealthChecker.create("api", "127.0.0.1", server.port(), http, reports.getRef()));
            reports.expectMessage(WAIT, new HealthChecker.Report("api", true, "1 check passed"));
            testKit.stop(checker, WAIT);
            assertEquals("GET /status?deep=1 HTTP/1.1\r\nHost: api.example.test\r\nUser-Agent: actortls-health\r\n"
                    + "Connection: close\r\n\r\n", server.nextRequest());
        }
    }

    @Test
    void withoutAConfiguredHostSendsHostAndPortAndAnotherStatusIsDown() throws Exception {
        try (RecordingServer server = new RecordingServer("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")) {
            HealthCheckSettings http = HealthCheckSettings.http(INTERVAL, TIMEOUT, 1, 1, null, null, 204);
            TestProbe<HealthChecker.Report> reports = testKit.createTestProbe(HealthChecker.Report.class);
            ActorRef<HealthChecker.Command> checker = testKit.spawn(
                    HealthChecker.create("api", "127.0.0.1", server.port(), http, reports.getRef()));
            reports.expectMessage(WAIT, new HealthChecker.Report("api", false, "HTTP 200"));
            testKit.stop(checker, WAIT);
            assertEquals("GET / HTTP/1.1\r\nHost: 127.0.0.1:" + server.port() + "\r\nUser-Agent: actortls-health\r\n"
                    + "Connection: close\r\n\r\n", server.nextRequest());
        }
    }

    @Test
    void garbageOrAnEarlyCloseIsAFailedCheck() throws Exception {
        HealthCheckSettings http = HealthCheckSettings.http(INTERVAL, TIMEOUT, 1, 1, "/", null, 200);
        try (RecordingServer garbage = new RecordingServer("SSH-2.0-OpenSSH_9.6\r\n");
             RecordingServer silentClose = new RecordingServer("")) {
            TestProbe<HealthChecker.Report> reports = testKit.createTestProbe(HealthChecker.Report.class);
            ActorRef<HealthChecker.Command> a = testKit.spawn(
                    HealthChecker.create("ssh", "127.0.0.1", garbage.port(), http, reports.getRef()));
            reports.expectMessage(WAIT, new HealthChecker.Report("ssh", false, "bad status line: SSH-2.0-OpenSSH_9.6"));
            testKit.stop(a, WAIT);
            ActorRef<HealthChecker.Command> b = testKit.spawn(
                    HealthChecker.create("closer", "127.0.0.1", silentClose.port(), http, reports.getRef()));
            reports.expectMessage(WAIT, new HealthChecker.Report("closer", false, "connection closed before the status line"));
            testKit.stop(b, WAIT);
        }
    }

    /** Accepts connections one at a time, records each request's head, answers {@code response} and closes. */
    private static final class RecordingServer implements AutoCloseable {
        private final ServerSocket socket;
        private final BlockingQueue<String> requests = new ArrayBlockingQueue<>(1000);
        private final Thread acceptor;

        RecordingServer(String response) throws IOException {
            socket = new ServerSocket();
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), Tools.freePort()), 50);
            acceptor = Thread.ofVirtual().start(() -> {
                while (!socket.isClosed()) {
                    try (Socket connection = socket.accept()) {
                        connection.setSoTimeout(2000);
                        requests.offer(readHead(connection.getInputStream()));
                        connection.getOutputStream().write(response.getBytes(StandardCharsets.US_ASCII));
                    } catch (IOException e) {
                        // closed by close(), or a client that went away: either way, on to the next
                    }
                }
            });
        }

        int port() {
            return socket.getLocalPort();
        }

        String nextRequest() throws InterruptedException {
            String request = requests.poll(5, TimeUnit.SECONDS);
            if (request == null) throw new AssertionError("no request within 5 s");
            return request;
        }

        private static String readHead(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n") && head.size() < 8192) {
                int b = in.read();
                if (b < 0) break;
                head.write(b);
            }
            return head.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws IOException {
            socket.close();
            try {
                acceptor.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
