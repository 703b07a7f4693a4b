package io.actortls.security;

import io.actortls.security.TlsFuzzCases.Case;
import io.actortls.security.TlsFuzzCases.Expect;
import io.actortls.security.TlsFuzzCases.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;
import javax.net.ssl.SSLSocket;

/**
 * Runs fuzz cases against a node, each on a TCP connection of its own and many at once (a virtual thread and a
 * blocking socket per case), and tallies how the node ended them. A case fails when the node has not closed it
 * within the bound, when a valid ClientHello gets no ServerHello, or when a client that must be served is not.
 * What the node's close counters must show comes out as {@link #expectedRefused()} and its siblings.
 */
final class FuzzRunner {
    private static final byte[] REQUEST = "GET /64 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    private static final int RESPONSE_BODY = 64;
    /** Cases held open until the handshake timeout wait beside the others, not in their place. */
    private static final int SILENT_IN_FLIGHT = 512;
    private static final int FAILURES_KEPT = 20;

    private final int port;
    private final JdkTlsClient jdk;
    private final Duration closeBound;
    private final Semaphore inFlight;
    private final Semaphore silentInFlight = new Semaphore(SILENT_IN_FLIGHT);

    private final Map<Kind, LongAdder> byKind = new EnumMap<>(Kind.class), nanosByKind = new EnumMap<>(Kind.class);
    private final LongAdder refused = new LongAdder(), timedOut = new LongAdder(), served = new LongAdder();
    private final LongAdder handshakes = new LongAdder(), serverHellos = new LongAdder(), bytesSent = new LongAdder();
    private final LongAdder oneByteWrites = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final ConcurrentLinkedQueue<String> failureExamples = new ConcurrentLinkedQueue<>();
    private final AtomicLong slowestCloseNanos = new AtomicLong(), slowestSilentNanos = new AtomicLong();
    private final AtomicLong quickestSilentNanos = new AtomicLong(Long.MAX_VALUE);

    FuzzRunner(int port, JdkTlsClient jdk, int concurrency, Duration closeBound) {
        this.port = port;
        this.jdk = jdk;
        this.closeBound = closeBound;
        this.inFlight = new Semaphore(concurrency);
        for (Kind kind : Kind.values()) {
            byKind.put(kind, new LongAdder());
            nanosByKind.put(kind, new LongAdder());
        }
    }

    /**
     * Runs cases 0 to {@code count - 1}, and returns once all have ended. {@code afterEachTenth} is told when each
     * tenth of the cases has been started (1 to 10), while the cases go on.
     */
    void run(TlsFuzzCases cases, long count, IntConsumer afterEachTenth) throws InterruptedException {
        long tenth = Math.max(1, count / 10);
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (long i = 0; i < count; i++) {
                if (i > 0 && i % tenth == 0 && i / tenth <= 10) afterEachTenth.accept((int) (i / tenth));
                Case c = cases.make(i);
                Semaphore permits = c.leavesAfterSending() ? inFlight : silentInFlight;
                permits.acquire();
                threads.execute(() -> {
                    try {
                        runCase(c);
                    } catch (RuntimeException | AssertionError e) {
                        fail(c, "the test's client failed: " + e);
                    } finally {
                        permits.release();
                    }
                });
            }
            threads.shutdown();
            // Each case ends within the close bound (or fails); a little more for the cases still queued.
            if (!threads.awaitTermination(closeBound.multipliedBy(3).toMillis(), TimeUnit.MILLISECONDS))
                throw new AssertionError("fuzz cases still running " + closeBound.multipliedBy(3) + " after the last started");
        }
    }

    private void runCase(Case c) {
        long start = System.nanoTime();
        try {
            runCaseOnce(c);
        } finally {
            nanosByKind.get(c.kind()).add(System.nanoTime() - start);
        }
    }

    private void runCaseOnce(Case c) {
        byKind.get(c.kind()).increment();
        bytesSent.add(c.bytes().length);
        switch (c.kind().expect) {
            case JDK_CLIENT -> runJdkClient(c);
            case TIMED_OUT -> {
                runRaw(c);
                timedOut.increment();
            }
            default -> {
                runRaw(c);
                refused.increment();
            }
        }
    }

    // ---- raw bytes -----------------------------------------------------------------------------------------

    private void runRaw(Case c) {
        long start = System.nanoTime();
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            send(socket, c);
            long sent = System.nanoTime();
            Answer answer = readUntilClosed(socket);
            if (answer == null) {
                fail(c, "not closed by the node within " + closeBound.toMillis() + " ms");
                return;
            }
            long now = System.nanoTime();
            if (c.leavesAfterSending()) {
                slowestCloseNanos.accumulateAndGet(now - sent, Math::max);
            } else {
                slowestSilentNanos.accumulateAndGet(now - start, Math::max);
                quickestSilentNanos.accumulateAndGet(now - start, Math::min);
            }
            if (c.kind().expect == Expect.SERVER_HELLO_THEN_REFUSED) {
                if (!answer.startsWithServerHello()) fail(c, "a valid ClientHello got no ServerHello but " + answer);
                else serverHellos.increment();
            }
        } catch (IOException e) {
            fail(c, "connecting failed: " + e);
        }
    }

    /** Sends the case's bytes in its chunks, then half-closes (unless the case stays silent). */
    private void send(Socket socket, Case c) {
        try {
            OutputStream out = socket.getOutputStream();
            int at = 0;
            for (int size : c.chunks()) {
                out.write(c.bytes(), at, size);
                at += size;
            }
            if (c.writes() == TlsFuzzCases.Writes.ONE_BYTE) oneByteWrites.add(c.chunks().length);
            if (c.leavesAfterSending()) socket.shutdownOutput();
        } catch (IOException closedByTheNode) {
            // The node refused before taking everything (and reset the connection): what it sent before is read next.
        }
    }

    /** What the node sent: its first bytes and how many. */
    private record Answer(byte[] head, long length) {
        boolean startsWithServerHello() {
            return head.length >= 6 && head[0] == ClientHello.HANDSHAKE && head[5] == 2;
        }

        @Override
        public String toString() {
            return length + " bytes starting " + HexFormat.of().formatHex(head);
        }
    }

    /** @return null if the node did not close the connection (FIN or reset) within the bound */
    private Answer readUntilClosed(Socket socket) throws IOException {
        long deadline = System.nanoTime() + closeBound.toNanos();
        byte[] head = new byte[6];
        int headLength = 0;
        long length = 0;
        byte[] buffer = new byte[16384];
        InputStream in = socket.getInputStream();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return null;
                socket.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                int n = in.read(buffer);
                if (n < 0) break;
                int copy = Math.min(n, head.length - headLength);
                System.arraycopy(buffer, 0, head, headLength, copy);
                headLength += copy;
                length += n;
            }
        } catch (SocketTimeoutException e) {
            return null;
        } catch (SocketException reset) {
            // a reset ends the connection as well as a FIN
        }
        return new Answer(java.util.Arrays.copyOf(head, headLength), length);
    }

    // ---- the JDK's TLS client ------------------------------------------------------------------------------

    private void runJdkClient(Case c) {
        String protocol = c.tls13() ? "TLSv1.3" : "TLSv1.2";
        try (JdkTlsClient.OneBytePerWrite raw = JdkTlsClient.OneBytePerWrite.connect(port)) {
            raw.setSoTimeout((int) closeBound.toMillis());
            SSLSocket tls = jdk.handshake(raw, "localhost", protocol);
            handshakes.increment();
            switch (c.kind()) {
                case ONE_BYTE_HANDSHAKE -> {
                    String failure = exchange(tls);
                    tls.close();
                    if (failure != null) fail(c, failure);
                    else if (raw.writes() != raw.bytes() || raw.bytes() < 200)
                        fail(c, raw.writes() + " writes for " + raw.bytes() + " bytes: not one byte per write");
                    else {
                        served.increment();
                        oneByteWrites.add(raw.writes());
                    }
                }
                case ONE_BYTE_HANDSHAKE_THEN_GARBAGE -> {
                    // Under the TLS layer: a record no key of this connection authenticates.
                    OutputStream out = raw.getOutputStream();
                    out.write(c.bytes());
                    raw.shutdownOutput();
                    if (readUntilClosed(raw) == null) fail(c, "not closed by the node within " + closeBound.toMillis() + " ms");
                    refused.increment();
                }
                case RENEGOTIATION -> renegotiate(c, tls);
                default -> throw new IllegalArgumentException(c.kind().toString());
            }
        } catch (IOException e) {
            fail(c, protocol + " client failed: " + e);
        }
    }

    /**
     * Asks for a new handshake on an established TLS 1.2 connection. The node must refuse (a no_renegotiation
     * warning); the JDK then gives up with a fatal handshake_failure alert, which the node counts as a protocol
     * error. Nothing else is sent, so nothing from the backend can race that alert. A second completed handshake,
     * or any answer but the refusal, fails the case.
     */
    private void renegotiate(Case c, SSLSocket tls) {
        LongAdder completed = new LongAdder();
        tls.addHandshakeCompletedListener(event -> completed.increment());
        try {
            tls.startHandshake(); // sends the new ClientHello; what the node says comes with the next read
            int read = tls.getInputStream().read();
            fail(c, "the connection went on after a renegotiation request (read " + read + ")");
        } catch (IOException refusedByTheNode) {
            if (!String.valueOf(refusedByTheNode.getMessage()).contains("no_renegotiation"))
                fail(c, "the renegotiation failed otherwise than by the node's refusal: " + refusedByTheNode);
            refused.increment();
        }
        if (completed.sum() > 0) fail(c, "the node renegotiated");
        try {
            tls.close();
        } catch (IOException ignored) {
            // already failed
        }
    }

    /** A GET through the node to the backend; null if the whole response came back, else what went wrong. */
    private static String exchange(SSLSocket tls) throws IOException {
        tls.getOutputStream().write(REQUEST);
        tls.getOutputStream().flush();
        byte[] response = tls.getInputStream().readAllBytes();
        String text = new String(response, StandardCharsets.ISO_8859_1);
        int body = text.indexOf("\r\n\r\n") + 4;
        if (!text.startsWith("HTTP/1.1 200") || body < 4 || response.length - body != RESPONSE_BODY)
            return "unexpected response: " + text.substring(0, Math.min(200, text.length()));
        return null;
    }

    private void fail(Case c, String what) {
        failures.increment();
        if (failureExamples.size() < FAILURES_KEPT) {
            byte[] shown = java.util.Arrays.copyOf(c.bytes(), Math.min(c.bytes().length, 600));
            failureExamples.add("case " + c.index() + " " + c.kind() + " (" + c.writes() + " writes, "
                    + c.bytes().length + " bytes): " + what + "; bytes: " + HexFormat.of().formatHex(shown)
                    + (shown.length < c.bytes().length ? "..." : ""));
        }
    }

    // ---- results -----------------------------------------------------------------------------------------------

    /** Cases the node must have closed as protocol-error or handshake-aborted. */
    long expectedRefused() {
        return refused.sum();
    }

    /** Cases the node must have closed as handshake-timeout. */
    long expectedTimedOut() {
        return timedOut.sum();
    }

    /** Cases the node must have served to the end (client-closed or backend-closed). */
    long expectedServed() {
        return served.sum();
    }

    /** Handshakes the node must have completed: the JDK clients' only. */
    long expectedHandshakes() {
        return handshakes.sum();
    }

    long failures() {
        return failures.sum();
    }

    List<String> failureExamples() {
        return List.copyOf(failureExamples);
    }

    Map<Kind, Long> casesByKind() {
        Map<Kind, Long> counts = new EnumMap<>(Kind.class);
        byKind.forEach((kind, n) -> counts.put(kind, n.sum()));
        return counts;
    }

    /** How long a case of each kind took, on average, in milliseconds (connect to closed). */
    Map<Kind, Long> meanMillisByKind() {
        Map<Kind, Long> means = new EnumMap<>(Kind.class);
        byKind.forEach((kind, n) -> {
            if (n.sum() > 0) means.put(kind, nanosByKind.get(kind).sum() / n.sum() / 1_000_000);
        });
        return means;
    }

    long serverHellos() {
        return serverHellos.sum();
    }

    long oneByteWrites() {
        return oneByteWrites.sum();
    }

    long bytesSent() {
        return bytesSent.sum();
    }

    Duration slowestClose() {
        return Duration.ofNanos(slowestCloseNanos.get());
    }

    /** The shortest and longest life of a silent case: both should be about the handshake timeout. */
    Duration quickestSilent() {
        return Duration.ofNanos(quickestSilentNanos.get() == Long.MAX_VALUE ? 0 : quickestSilentNanos.get());
    }

    Duration slowestSilent() {
        return Duration.ofNanos(slowestSilentNanos.get());
    }
}
