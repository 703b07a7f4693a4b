package io.actortls.security;

import io.actortls.testkit.ClientProcess;
import io.actortls.testkit.Curl;
import io.actortls.testkit.SClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Clients that must not notice what else the node is going through: long-lived {@code openssl s_client}
 * connections streaming random bytes through the node to the echo backend, every byte that comes back checked
 * against what was sent, and a fresh curl handshake with a GET every few hundred milliseconds.
 */
final class GoodTraffic {
    private static final int CHUNK = 4096;
    private static final Duration CURL_EVERY = Duration.ofMillis(300);
    private static final int CURL_BODY = 1000;

    private final int port;
    private final Path ca;
    private final List<EchoStream> streams = new ArrayList<>();
    private final Thread curls;
    private volatile boolean running = true;
    private final AtomicLong curlsDone = new AtomicLong();
    private final AtomicLong slowestCurlNanos = new AtomicLong();
    private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();

    private GoodTraffic(int port, Path ca, int streamCount) {
        this.port = port;
        this.ca = ca;
        for (int i = 0; i < streamCount; i++) streams.add(new EchoStream(i));
        curls = Thread.ofPlatform().daemon().name("good-curls").start(this::curlUntilStopped);
    }

    static GoodTraffic start(int port, Path ca, int streams) {
        return new GoodTraffic(port, ca, streams);
    }

    /**
     * @param connections the node's connections these clients made (each ends client-closed or backend-closed)
     * @param problems    anything that went wrong, empty if nothing did
     */
    record Summary(long connections, long curls, Duration slowestCurl, long streamedBytes, Duration longestEchoWait,
                   List<String> problems) {}

    /** Stops the curls and ends each stream once all it sent has come back. */
    Summary stop() throws InterruptedException {
        running = false;
        curls.join(Duration.ofSeconds(60));
        if (curls.isAlive()) problems.add("the last curl did not finish within 60 s");
        long streamed = 0;
        long longestWait = 0;
        for (EchoStream stream : streams) {
            stream.finish();
            streamed += stream.echoed.get();
            longestWait = Math.max(longestWait, stream.longestWaitNanos.get());
        }
        return new Summary(streams.size() + curlsDone.get(), curlsDone.get(), Duration.ofNanos(slowestCurlNanos.get()),
                streamed, Duration.ofNanos(longestWait), List.copyOf(problems));
    }

    private void curlUntilStopped() {
        while (running) {
            long start = System.nanoTime();
            Curl.Response response = Curl.get(ca, "localhost", port, "/" + CURL_BODY);
            slowestCurlNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
            curlsDone.incrementAndGet();
            if (response.exitCode() != 0 || response.status() != 200 || response.body().length != CURL_BODY)
                problems.add("curl: " + response.describe());
            try {
                Thread.sleep(CURL_EVERY);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The bytes of one stream, 4 KiB at a time, the same for its writer and its checker. */
    private static final class StreamBytes {
        private final SplittableRandom random;
        private boolean first = true;

        StreamBytes(long seed) {
            random = new SplittableRandom(seed);
        }

        byte[] next() {
            byte[] chunk = new byte[CHUNK];
            random.nextBytes(chunk);
            if (first) chunk[0] = 0; // the backend echoes a connection that does not start like an HTTP request
            first = false;
            return chunk;
        }
    }

    /** One s_client connection: a writer paced at about 200 KiB/s, and a reader checking every echoed byte. */
    private final class EchoStream {
        private final int id;
        private final ClientProcess client;
        private final AtomicLong sent = new AtomicLong(), echoed = new AtomicLong();
        private final AtomicLong longestWaitNanos = new AtomicLong();
        private final Thread writer, reader;

        EchoStream(int id) {
            this.id = id;
            client = ClientProcess.start(SClient.command(port, "-servername", "localhost", "-quiet", "-no_ign_eof",
                    "-nocommands"));
            writer = Thread.ofPlatform().daemon().name("echo-writer-" + id).start(this::write);
            reader = Thread.ofPlatform().daemon().name("echo-reader-" + id).start(this::read);
        }

        private void write() {
            StreamBytes bytes = new StreamBytes(id);
            OutputStream out = client.stdin();
            try {
                while (running) {
                    out.write(bytes.next());
                    out.flush();
                    sent.addAndGet(CHUNK);
                    Thread.sleep(20);
                }
            } catch (IOException | InterruptedException e) {
                problems.add("stream " + id + " could not write after " + sent.get() + " bytes: " + e + "; " + client.stderr());
            }
        }

        private void read() {
            StreamBytes expected = new StreamBytes(id);
            byte[] want = expected.next();
            int at = 0;
            byte[] buffer = new byte[CHUNK];
            InputStream in = client.stdout();
            long last = System.nanoTime();
            try {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    long now = System.nanoTime();
                    longestWaitNanos.accumulateAndGet(now - last, Math::max);
                    last = now;
                    for (int i = 0; i < n; ) {
                        int span = Math.min(n - i, CHUNK - at);
                        int differs = Arrays.mismatch(buffer, i, i + span, want, at, at + span);
                        if (differs >= 0) {
                            problems.add("stream " + id + ": byte " + (echoed.get() + differs) + " came back changed");
                            return;
                        }
                        echoed.addAndGet(span);
                        i += span;
                        at += span;
                        if (at == CHUNK) {
                            want = expected.next();
                            at = 0;
                        }
                    }
                }
            } catch (IOException e) {
                problems.add("stream " + id + " could not read after " + echoed.get() + " bytes: " + e);
            }
        }

        /** Waits for the last echoes, then ends the client's input: s_client sends close_notify and exits. */
        void finish() throws InterruptedException {
            writer.join(Duration.ofSeconds(10));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (echoed.get() < sent.get() && reader.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
            if (echoed.get() != sent.get())
                problems.add("stream " + id + ": " + echoed.get() + " of " + sent.get() + " bytes came back");
            try {
                client.stdin().close();
            } catch (IOException e) {
                problems.add("stream " + id + ": closing its input failed: " + e);
            }
            if (!client.awaitExit(Duration.ofSeconds(10))) problems.add("stream " + id + ": s_client did not exit");
            reader.join(Duration.ofSeconds(10));
            client.close();
        }
    }
}
