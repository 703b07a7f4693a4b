package io.actortls.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP backend on 127.0.0.1, a raw {@link ServerSocket} in the test JVM, that breaks the way a real server
 * does: healthy (health checks on {@code healthPath} get 200) until the first other request arrives, then failing
 * every connection from that one on, health checks included:
 * <ul>
 *   <li>{@link Fault#HANG}: accepts and reads, never answers (a deadlocked server whose kernel still accepts);</li>
 *   <li>{@link Fault#RESET}: reads the request, then resets the connection (SO_LINGER 0, a crashing handler).</li>
 * </ul>
 */
public final class FaultyBackend implements AutoCloseable {
    public enum Fault { HANG, RESET }

    /** How long a hanging connection is kept at most, so that nothing outlives the test for long. */
    private static final int HANG_BOUND_MILLIS = 120_000;

    private final Fault fault;
    private final String healthPath;
    private final ServerSocket server;
    private final AtomicBoolean failing = new AtomicBoolean();
    private final AtomicInteger failed = new AtomicInteger();

    private FaultyBackend(Fault fault, String healthPath) throws IOException {
        this.fault = fault;
        this.healthPath = healthPath;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), Tools.freePort()));
        Thread.ofPlatform().daemon().name("faulty-backend-" + server.getLocalPort()).start(this::acceptLoop);
    }

    public static FaultyBackend start(Fault fault, String healthPath) {
        try {
            return new FaultyBackend(fault, healthPath);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a faulty backend", e);
        }
    }

    public String address() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    /** A pool server entry for {@link Hocon#pool}. */
    public String server(String name) {
        return "{ name = \"%s\", address = \"%s\" }".formatted(name, address());
    }

    /** Connections it has hung or reset so far (the client's first, then health checks). */
    public int failedConnections() {
        return failed.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                Thread.ofVirtual().start(() -> serve(socket));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setSoTimeout(HANG_BOUND_MILLIS);
            String path = requestPath(socket.getInputStream());
            if (!failing.get() && healthPath.equals(path)) {
                socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                        .getBytes(StandardCharsets.US_ASCII));
                return;
            }
            failing.set(true);
            failed.incrementAndGet();
            switch (fault) {
                case HANG -> socket.getInputStream().transferTo(java.io.OutputStream.nullOutputStream()); // until the peer gives up
                case RESET -> socket.setSoLinger(true, 0); // the close below then sends RST
            }
        } catch (SocketTimeoutException bound) {
            // a hang that nobody ended: close
        } catch (IOException peerGone) {
            // the node or a health check closed first
        }
    }

    /** Reads a request head and returns its path ("" if the connection ended before one). */
    private static String requestPath(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        for (int b; (b = in.read()) != -1; ) {
            head.write(b);
            String text = head.toString(StandardCharsets.US_ASCII);
            if (text.endsWith("\r\n\r\n")) {
                String[] requestLine = text.substring(0, text.indexOf("\r\n")).split(" ");
                return requestLine.length > 1 ? requestLine[1] : "";
            }
        }
        return "";
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
