package io.actortls.demo;

import static io.actortls.testkit.Bytes.ascii;
import static io.actortls.testkit.Bytes.concat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.proxy.ProxyProtocolHeader;
import io.actortls.testkit.PlainHttpConnection;
import io.actortls.testkit.Run;
import io.actortls.testkit.Tools;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The demo backend as an HTTP/1.1 server, in this JVM, over real sockets and curl: its three routes, keep-alive and
 * {@code Connection: close}, a held response that names the backend at once and ends when its client does, and
 * the answers that end a connection (400, 431, 501). Started without PROXY protocol support, so a PROXY header
 * is a bad request.
 */
class DemoBackendServesHttp11Test {
    private static final String NAME = "http-backend";
    private static final String HELLO = "Hello from " + NAME + "\n";
    private static final int MAX_HEAD_BYTES = 16 * 1024;

    static DemoBackend backend;

    @BeforeAll
    static void start() throws IOException {
        backend = DemoBackend.serve(Tools.freePort(), NAME);
    }

    @AfterAll
    static void stop() {
        if (backend != null) backend.close();
    }

    @Test
    void rootAnswersHelloWithItsName() throws IOException {
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            PlainHttpConnection.Response response = connection.get("/").readResponse();
            assertEquals(200, response.status());
            assertEquals(HELLO, response.body());
            assertEquals(NAME, response.head().field("X-Backend"));
            assertTrue(response.head().field("Content-Type").startsWith("text/plain"), response.head().toString());
        }
    }

    @Test
    void keepAliveServesTwoRequestsOnOneSocket() throws IOException {
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            assertEquals(HELLO, connection.get("/").readResponse().body());
            PlainHttpConnection.Response second = connection.get("/proxy").readResponse();
            assertEquals("version=none\n", second.body());
            assertEquals("keep-alive", second.head().field("Connection"));
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws IOException {
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            connection.write("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(List.of(200, 404, 200), List.of(connection.readResponse().status(),
                    connection.readResponse().status(), connection.readResponse().status()));
        }
    }

    @Test
    void connectionCloseIsHonoured() throws IOException {
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            PlainHttpConnection.Response response = connection.get("/", "Connection: close").readResponse();
            assertEquals(HELLO, response.body());
            assertEquals("close", response.head().field("Connection"));
            assertEquals(0, connection.readUntilClosed().length);
        }
    }

    @Test
    void http10ClosesUnlessAskedToKeepAlive() throws IOException {
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            connection.write("GET / HTTP/1.0\r\n\r\n");
            assertEquals(HELLO, connection.readResponse().body());
            assertEquals(0, connection.readUntilClosed().length);
        }
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            connection.write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n");
            assertEquals("keep-alive", connection.readResponse().head().field("Connection"));
            assertEquals("close", connection.readResponse().head().field("Connection"));
            assertEquals(0, connection.readUntilClosed().length);
        }
    }

    @Test
    void anythingElseIs404AndKeepsTheConnection() throws IOException {
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            assertEquals(404, connection.get("/missing").readResponse().status());
            assertEquals(404, connection.get("/hold/").readResponse().status());
            // a body the backend does not want is read past, not taken for the next request
            connection.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 14\r\n\r\nGET / HTTP/1.1");
            assertEquals(404, connection.readResponse().status());
            assertEquals(HELLO, connection.get("/").readResponse().body());
        }
    }

    @Test
    void holdNamesTheBackendAtOnceAndEndsAfterTheGivenSeconds() throws IOException {
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            long start = System.nanoTime();
            connection.get("/hold?s=2");
            PlainHttpConnection.Head head = connection.readHead();
            assertEquals(NAME + "\n", connection.readChunk());
            Duration firstChunk = since(start);
            assertTrue(firstChunk.toMillis() < 500, "the name came after " + firstChunk.toMillis() + " ms");
            assertEquals(200, head.status());
            assertEquals(NAME, head.field("X-Backend"));
            assertEquals("chunked", head.field("Transfer-Encoding"));

            assertNull(connection.readChunk(), "the response ends after the held seconds");
            Duration ended = since(start);
            assertTrue(ended.toMillis() >= 1900 && ended.toMillis() < 4000, "ended after " + ended.toMillis() + " ms");
            assertEquals(HELLO, connection.get("/").readResponse().body(), "the connection is kept alive afterwards");
        }
    }

    @Test
    void holdWithConnectionCloseEndsTheBodyByClosing() throws IOException {
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            PlainHttpConnection.Response response = connection.get("/hold?s=0", "Connection: close").readResponse();
            assertEquals(NAME + "\n", response.body());
            assertNull(response.head().field("Transfer-Encoding"));
            assertNull(response.head().field("Content-Length"));
        }
    }

    @Test
    void aHeldResponseEndsWhenTheClientEndsItsSide() throws IOException {
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            connection.get("/hold?s=3600").readHead();
            assertEquals(NAME + "\n", connection.readChunk());
            long start = System.nanoTime();
            connection.finishWriting();
            assertEquals(0, connection.readUntilClosed().length, "closed without ending the held response");
            assertTrue(since(start).toMillis() < 5000, "closed after " + since(start).toMillis() + " ms");
        }
    }

    @Test
    void curlPrintsTheNameOfAHeldResponse() {
        long start = System.nanoTime();
        Run curl = Run.of(List.of("curl", "-sS", "--max-time", "20", "http://127.0.0.1:" + backend.port() + "/hold?s=1"),
                null, Duration.ofSeconds(30));
        Duration took = since(start);
        assertEquals(0, curl.exitCode(), curl.all());
        assertEquals(NAME + "\n", curl.out());
        assertTrue(took.toMillis() >= 900, "curl waited for the end, " + took.toMillis() + " ms");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/hold", "/hold?s=", "/hold?s=3601", "/hold?s=-1", "/hold?s=1.5", "/hold?t=1", "/hold?s=10000"})
    void holdRefusesSecondsOutsideZeroTo3600(String target) throws IOException {
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            assertEquals(400, connection.get(target).readResponse().status(), target);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",          // two spaces
            "GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n",
            "GET /\r\nHost: a\r\n\r\n",                    // HTTP/0.9
            "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
            "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",   // absolute form
            "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
            "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",       // an empty line first
            "GET / HTTP/1.1\r\n\r\n",                      // no Host
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost : a\r\n\r\n",          // space before the colon
            "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\u0001b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
    })
    void aBadRequestGets400AndTheConnectionIsClosed(String request) throws IOException {
        assertAnsweredAndClosed(ascii(request), 400);
    }

    @Test
    void aTransferCodedRequestBodyGets501() throws IOException {
        assertAnsweredAndClosed(ascii("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 501);
    }

    @Test
    void aRequestHeadUpTo16KiBIsServedAndOneByteMoreGets431() throws IOException {
        String start = "GET / HTTP/1.1\r\nHost: a\r\nX-Padding: ";
        String end = "\r\n\r\n";
        String fits = start + "p".repeat(MAX_HEAD_BYTES - start.length() - end.length()) + end;
        assertEquals(MAX_HEAD_BYTES, fits.length());
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            assertEquals(HELLO, connection.write(fits).readResponse().body());
        }
        String tooLarge = start + "p".repeat(MAX_HEAD_BYTES - start.length() - end.length() + 1) + end;
        assertAnsweredAndClosed(ascii(tooLarge), 431);
    }

    @ParameterizedTest
    @EnumSource(ProxyProtocolHeader.Version.class)
    void withoutAcceptProxyAProxyHeaderIsABadRequest(ProxyProtocolHeader.Version version) throws IOException {
        InetSocketAddress client = new InetSocketAddress("127.0.0.1", 40000);
        byte[] header = ProxyProtocolHeader.encode(version, client, new InetSocketAddress("127.0.0.1", backend.port()), null);
        assertAnsweredAndClosed(concat(header, ascii("GET /proxy HTTP/1.1\r\nHost: a\r\n\r\n")), 400);
    }

    @Test
    void closeEndsHeldResponsesAndStopsListening() throws Exception {
        int port = Tools.freePort();
        DemoBackend held = DemoBackend.serve(port, "closing-backend");
        try (PlainHttpConnection connection = PlainHttpConnection.open(port)) {
            connection.get("/hold?s=3600").readHead();
            assertEquals("closing-backend\n", connection.readChunk());
            long start = System.nanoTime();
            held.close();
            connection.readUntilClosed();
            assertTrue(since(start).toMillis() < 5000, "close took " + since(start).toMillis() + " ms");
        } finally {
            held.close();
        }
        assertTrue(Tools.canBind(port), "the port is free again");
    }

    private static void assertAnsweredAndClosed(byte[] request, int status) throws IOException {
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            PlainHttpConnection.Response response = connection.write(request).readResponse();
            assertEquals(status, response.status(), response.body());
            assertEquals("close", response.head().field("Connection"));
            assertEquals(0, connection.readUntilClosed().length, "nothing after the answer");
        }
    }

    private static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }
}
