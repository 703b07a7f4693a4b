package io.actortls.demo;

import io.actortls.node.Main;
import io.actortls.proxy.AddressText;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

/**
 * The demo's plaintext HTTP/1.1 backend on 127.0.0.1: a {@link ServerSocket} and one virtual thread per
 * connection, with keep-alive. Every response carries {@code X-Backend: NAME}.
 * <ul>
 *   <li>{@code GET /}: 200, {@code Hello from NAME}.</li>
 *   <li>{@code GET /hold?s=N} (0 to 3600): 200 whose first body chunk, {@code NAME}, is sent at once; the response
 *       ends N seconds later, or the connection closes as soon as the client ends its side. A client sees at once
 *       which backend it reached while its connection stays open.</li>
 *   <li>{@code GET /proxy}: 200, one {@code name=value} line per field of this connection's PROXY protocol header
 *       ({@code version=none} without one).</li>
 *   <li>anything else: 404.</li>
 * </ul>
 * With {@code acceptProxy}, a connection may start with a PROXY protocol header, v1 or v2 (see
 * {@link ProxyProtocolParser}); a malformed one closes the connection with one line on stderr. Without it, such a
 * header is just a bad request. A request head over 16 KiB gets 431, a malformed one 400, a request body in a
 * transfer coding 501 (see {@link HttpRequestHead}), and the connection is closed after each.
 */
public final class DemoBackend implements AutoCloseable {
    private static final int MAX_REQUEST_HEAD_BYTES = 16 * 1024;
    private static final int MAX_HOLD_SECONDS = 3600;
    /** Keep-alive connections idle this long are closed, so that abandoned ones do not pile up. */
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);
    /** The spec's advice for a whole PROXY header: a few seconds, at least 3 to cover a TCP retransmission. */
    private static final Duration PROXY_HEADER_TIMEOUT = Duration.ofSeconds(3);
    /** How long and how much a closing connection keeps reading what the client still sends; see closeAfterLastResponse. */
    private static final Duration LINGER = Duration.ofMillis(500);
    private static final int LINGER_MAX_BYTES = 64 * 1024;
    private static final int BACKLOG = 1024;
    private static final Duration CLOSE_BOUND = Duration.ofSeconds(5);
    /** Visible ASCII and inner spaces: the name goes into a header field and into the response body. */
    private static final Pattern NAME = Pattern.compile("[\\x21-\\x7E]([\\x20-\\x7E]*[\\x21-\\x7E])?");
    private static final Pattern HOLD_QUERY = Pattern.compile("s=([0-9]{1,4})");
    private static final DateTimeFormatter HTTP_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);
    private static final Map<Integer, String> REASON_PHRASES = Map.of(200, "OK", 400, "Bad Request",
            404, "Not Found", 431, "Request Header Fields Too Large", 501, "Not Implemented");

    private final ServerSocket server;
    private final String name;
    private final boolean acceptProxy;
    /** Open connections and the threads serving them, so that close() can end both. */
    private final Map<Socket, Thread> connections = new ConcurrentHashMap<>();
    private final Thread acceptor;
    private volatile boolean closed;

    private DemoBackend(ServerSocket server, String name, boolean acceptProxy) {
        this.server = server;
        this.name = name;
        this.acceptProxy = acceptProxy;
        this.acceptor = Thread.ofPlatform().daemon().name("demo-backend-" + name + "-accept").unstarted(this::acceptConnections);
    }

    /**
     * {@code actortls demo-backend --port N [--name NAME] [--accept-proxy] [--host ADDR]}: serves until the process is
     * stopped. {@code --host} (default 127.0.0.1) lets a container serve its network, e.g. 0.0.0.0.
     */
    public static int run(String[] args) {
        int port = -1;
        String name = "demo-backend";
        boolean acceptProxy = false;
        String host = "127.0.0.1";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = i + 1 < args.length ? parsePort(args[++i]) : -1;
                case "--name" -> name = i + 1 < args.length ? args[++i] : null;
                case "--accept-proxy" -> acceptProxy = true;
                case "--host" -> host = i + 1 < args.length ? args[++i] : host;
                default -> Main.usage("unknown argument for demo-backend: " + args[i]);
            }
        }
        if (port < 1 || port > 0xFFFF) return Main.usage("demo-backend needs --port N (1-65535)");
        if (name == null || !NAME.matcher(name).matches())
            return Main.usage("demo-backend --name needs a name in printable ASCII (it becomes a header value)");
        try {
            serve(host, port, name, acceptProxy);
            new CountDownLatch(1).await(); // until the process is stopped
            return 0;
        } catch (IOException e) {
            System.err.println("actortls demo-backend: cannot listen on " + host + ":" + port + ": " + e.getMessage());
            return Main.EXIT_USAGE;
        } catch (InterruptedException e) {
            return 0;
        }
    }

    /** Starts a backend without PROXY protocol support in this JVM; {@link #close()} stops it. */
    public static DemoBackend serve(int port, String name) throws IOException {
        return serve(port, name, false);
    }

    /**
     * Starts a backend in this JVM, listening on 127.0.0.1:{@code port}; {@link #close()} stops it.
     *
     * @throws IllegalArgumentException if {@code name} is not printable ASCII without leading or trailing spaces
     */
    public static DemoBackend serve(int port, String name, boolean acceptProxy) throws IOException {
        return serve("127.0.0.1", port, name, acceptProxy);
    }

    private static DemoBackend serve(String host, int port, String name, boolean acceptProxy) throws IOException {
        if (!NAME.matcher(name).matches()) throw new IllegalArgumentException("not printable ASCII: " + name);
        ServerSocket server = new ServerSocket();
        try {
            server.bind(new InetSocketAddress(InetAddress.getByName(host), port), BACKLOG);
        } catch (IOException e) {
            server.close();
            throw e;
        }
        DemoBackend backend = new DemoBackend(server, name, acceptProxy);
        backend.acceptor.start();
        System.out.println("demo backend " + name + " listening on " + host + ":" + server.getLocalPort()
                + (acceptProxy ? " (PROXY protocol v1 and v2 accepted)" : ""));
        return backend;
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Stops listening, ends every connection (a held response too) and waits a bounded time for their threads. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        connections.forEach((socket, thread) -> {
            thread.interrupt();
            closeQuietly(socket);
        });
        long deadline = System.nanoTime() + CLOSE_BOUND.toNanos();
        try {
            acceptor.join(Duration.ofNanos(deadline - System.nanoTime()));
            for (Thread thread : connections.values()) thread.join(Duration.ofNanos(deadline - System.nanoTime()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void acceptConnections() {
        Thread.Builder connectionThreads = Thread.ofVirtual().name("demo-backend-" + name + "-", 0);
        while (!closed) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                if (closed) return;
                // e.g. out of file descriptors: say so, and give the machine a moment instead of spinning
                System.err.println("demo backend " + name + ": accept failed: " + e.getMessage());
                sleepQuietly(Duration.ofMillis(100));
                continue;
            }
            Thread thread = connectionThreads.unstarted(() -> serveConnection(socket));
            connections.put(socket, thread);
            thread.start();
            if (closed) { // close() may have run between accept and put, and not seen this connection
                thread.interrupt();
                closeQuietly(socket);
            }
        }
    }

    private void serveConnection(Socket socket) {
        String peer = AddressText.withPort((InetSocketAddress) socket.getRemoteSocketAddress());
        try (socket) {
            socket.setSoTimeout((int) IDLE_TIMEOUT.toMillis());
            socket.setTcpNoDelay(true); // the /hold chunk must leave at once, not wait for more bytes
            BufferedInputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = new BufferedOutputStream(socket.getOutputStream());
            Optional<ProxyProtocolParser.Header> proxyHeader;
            try {
                proxyHeader = acceptProxy ? readProxyHeader(socket, in) : Optional.empty();
            } catch (ProxyProtocolParser.MalformedHeaderException e) {
                System.err.println("demo backend " + name + ": closing " + peer + ": malformed PROXY header: " + e.getMessage());
                closeAfterLastResponse(socket, in);
                return;
            }
            while (!closed) {
                HttpRequestHead request;
                try {
                    request = HttpRequestHead.read(in, MAX_REQUEST_HEAD_BYTES);
                } catch (HttpRequestHead.Rejected e) {
                    sendText(out, e.status, e.getMessage() + "\n", false);
                    closeAfterLastResponse(socket, in);
                    return;
                }
                if (request == null) return; // the client closed its kept-alive connection
                in.skipNBytes(request.contentLength()); // no route reads a body; it must not be read as the next request
                if (!respond(request, socket, in, out, proxyHeader)) {
                    closeAfterLastResponse(socket, in);
                    return;
                }
            }
        } catch (SocketTimeoutException | InterruptedException idleOrStopping) {
            // idle past IDLE_TIMEOUT, or close() interrupted a held response: the socket closes below
        } catch (IOException clientGone) {
            // reset, or ended inside a request: nothing to answer
        } catch (RuntimeException bug) {
            System.err.println("demo backend " + name + ": closing " + peer + " after an internal error: " + bug);
        } finally {
            connections.remove(socket);
        }
    }

    /**
     * The PROXY header, if the connection starts with one, read within PROXY_HEADER_TIMEOUT of its first byte. The
     * wait for that first byte is the ordinary idle timeout: a client without a header may take its time.
     */
    private static Optional<ProxyProtocolParser.Header> readProxyHeader(Socket socket, BufferedInputStream in)
            throws IOException {
        in.mark(1);
        if (in.read() == -1) return Optional.empty();
        in.reset();
        // A deadline for the whole header, not per read: a client trickling one byte at a time cannot stretch it.
        AtomicBoolean expired = new AtomicBoolean();
        Thread watchdog = Thread.ofVirtual().start(() -> {
            if (sleepQuietly(PROXY_HEADER_TIMEOUT)) {
                expired.set(true);
                closeQuietly(socket);
            }
        });
        try {
            return ProxyProtocolParser.readIfPresent(in);
        } catch (IOException e) {
            if (expired.get())
                throw new ProxyProtocolParser.MalformedHeaderException("incomplete after " + PROXY_HEADER_TIMEOUT.toSeconds() + " s");
            throw e;
        } finally {
            watchdog.interrupt();
        }
    }

    /** Answers one request; returns whether the connection stays open for the next. */
    private boolean respond(HttpRequestHead request, Socket socket, BufferedInputStream in, OutputStream out,
                            Optional<ProxyProtocolParser.Header> proxyHeader) throws IOException, InterruptedException {
        boolean keepAlive = request.persistent();
        if (!request.method().equals("GET")) return sendText(out, 404, "not found\n", keepAlive);
        return switch (request.path()) {
            case "/" -> sendText(out, 200, "Hello from " + name + "\n", keepAlive);
            case "/hold" -> {
                var seconds = HOLD_QUERY.matcher(request.query());
                if (!seconds.matches() || Integer.parseInt(seconds.group(1)) > MAX_HOLD_SECONDS)
                    yield sendText(out, 400, "hold needs ?s=N with N from 0 to " + MAX_HOLD_SECONDS + "\n", keepAlive);
                yield hold(socket, in, out, Duration.ofSeconds(Integer.parseInt(seconds.group(1))),
                        request.http11() && keepAlive);
            }
            case "/proxy" -> sendText(out, 200, proxyHeader.map(h -> String.join("\n", h.fields()) + "\n")
                    .orElse("version=none\n"), keepAlive);
            default -> sendText(out, 404, "not found\n", keepAlive);
        };
    }

    /**
     * Sends the head and a first body chunk naming this backend, flushed, then ends the response after
     * {@code duration}. HTTP/1.1 gets chunked encoding, so the connection can stay open afterwards; otherwise the
     * end of the body is the end of the connection (HTTP/1.0 has no chunks, and a client asked to close anyway).
     */
    private boolean hold(Socket socket, BufferedInputStream in, OutputStream out, Duration duration, boolean chunked)
            throws IOException, InterruptedException {
        byte[] first = (name + "\n").getBytes(StandardCharsets.UTF_8);
        writeHead(out, 200, chunked ? "Transfer-Encoding: chunked" : null, chunked);
        if (chunked) out.write((Integer.toHexString(first.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(first);
        if (chunked) out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        if (!clientStaysFor(socket, in, duration)) return false;
        if (chunked) out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return chunked;
    }

    /**
     * Waits {@code duration}, or returns false as soon as the client ends its side: nobody waits for the rest, and
     * a held response that outlived its client would keep the connection (and a proxy's count of it) for the rest
     * of the hold. A byte that arrives instead (a pipelined request) is left for the next read.
     */
    private static boolean clientStaysFor(Socket socket, BufferedInputStream in, Duration duration)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + duration.toNanos();
        if (duration.isZero()) return true;
        socket.setSoTimeout((int) duration.toMillis());
        try {
            in.mark(1);
            if (in.read() == -1) return false;
            in.reset();
        } catch (SocketTimeoutException holdOver) {
            return true;
        } finally {
            socket.setSoTimeout((int) IDLE_TIMEOUT.toMillis());
        }
        Thread.sleep(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        return true;
    }

    /** A complete text/plain response; returns {@code keepAlive}. */
    private boolean sendText(OutputStream out, int status, String body, boolean keepAlive) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        writeHead(out, status, "Content-Length: " + bytes.length, keepAlive);
        out.write(bytes);
        out.flush();
        return keepAlive;
    }

    /**
     * The status line and header fields. {@code framing} is the Content-Length or Transfer-Encoding field, or null
     * when closing the connection ends the body. The Connection field is always there: an HTTP/1.0 client keeps its
     * connection open only when told {@code keep-alive}, and every client learns of a close before it happens.
     */
    private void writeHead(OutputStream out, int status, String framing, boolean keepAlive) throws IOException {
        StringBuilder head = new StringBuilder(200)
                .append("HTTP/1.1 ").append(status).append(' ').append(REASON_PHRASES.get(status)).append("\r\n")
                .append("Date: ").append(HTTP_DATE.format(ZonedDateTime.now())).append("\r\n")
                .append("Content-Type: text/plain; charset=utf-8\r\n")
                .append("X-Backend: ").append(name).append("\r\n");
        if (framing != null) head.append(framing).append("\r\n");
        head.append(keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n").append("\r\n");
        out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * Ends a connection the server decided to close. Closing a socket with unread bytes from the client makes the
     * kernel send a reset, which can destroy the last response before the client reads it; so send FIN first, then
     * read and drop what the client still sends, for at most LINGER and LINGER_MAX_BYTES.
     */
    private static void closeAfterLastResponse(Socket socket, InputStream in) {
        try {
            socket.shutdownOutput();
            long deadline = System.nanoTime() + LINGER.toNanos();
            byte[] discard = new byte[8192];
            for (int total = 0; total < LINGER_MAX_BYTES; ) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) return;
                socket.setSoTimeout((int) left);
                int n = in.read(discard);
                if (n < 0) return;
                total += n;
            }
        } catch (IOException goneOrTimedOut) {
            // either way the connection is over; the caller closes it
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception alreadyBroken) {
            // closing is all that was wanted
        }
    }

    /** Sleeps; false if interrupted (the interrupt is the signal to stop, so it is not kept). */
    private static boolean sleepQuietly(Duration duration) {
        try {
            Thread.sleep(duration);
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    private static int parsePort(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
