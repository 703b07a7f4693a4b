package io.actortls.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The shared plaintext backend ({@code ../shared/bench/backend.c}) as a real process on 127.0.0.1:
 * {@code GET /N} returns N bytes, {@code POST} sinks, anything else is echoed byte for byte.
 */
public final class BackendProcess implements AutoCloseable {
    private final Process process;
    private final int port;

    private BackendProcess(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    public static BackendProcess start() {
        return start(List.of(), Tools.freePort());
    }

    /**
     * A backend on {@code port}, run through {@code via}, a command prefix that execs it in place (e.g. {@code ip
     * netns exec NS}: then it listens on that namespace's 127.0.0.1, and is probed from there).
     */
    public static BackendProcess start(List<String> via, int port) {
        List<String> command = new java.util.ArrayList<>(via);
        command.addAll(List.of(Tools.backendBinary().toString(), "-p", Integer.toString(port), "-t", "1"));
        try {
            Process process = new ProcessBuilder(command)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            BackendProcess backend = new BackendProcess(process, port);
            if (via.isEmpty()) backend.awaitListening();
            else backend.awaitListening(via);
            return backend;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the shared backend", e);
        }
    }

    public int port() {
        return port;
    }

    public String address() {
        return "127.0.0.1:" + port;
    }

    private void awaitListening() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                sleep(50);
            }
        }
        throw new IllegalStateException("backend on port " + port + " did not start listening");
    }

    /** Probes from where the backend runs: bash's /dev/tcp connect through the same {@code via}. */
    private void awaitListening(List<String> via) {
        List<String> probe = new java.util.ArrayList<>(via);
        probe.addAll(List.of("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/" + port));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Run.of(probe, new byte[0], java.time.Duration.ofSeconds(5)).exitCode() != 0) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("backend on port " + port + " did not start listening");
            sleep(50);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
