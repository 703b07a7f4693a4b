package io.actortls.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A long-lived client connection: {@code curl -N https://HOST:PORT/hold?s=N} against a demo backend pool, which
 * answers at once with the name of the server it reached and keeps the response open N seconds.
 */
public final class HoldingClient implements AutoCloseable {
    private final Process process;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final CompletableFuture<byte[]> stderr;

    private HoldingClient(Process process) {
        this.process = process;
        this.stderr = Run.drain(process.getErrorStream());
        Thread.ofPlatform().daemon().start(() -> {
            try (var reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = reader.readLine()) != null; ) lines.add(line);
            } catch (IOException ignored) {
                // the process ended
            }
        });
    }

    /** Opens the connection; {@code options} go before the URL (e.g. {@code --interface 127.0.0.9}). */
    public static HoldingClient open(Path caFile, String host, int port, int seconds, String... options) {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "-N", "--cacert", caFile.toString(),
                "--resolve", host + ":" + port + ":127.0.0.1"));
        command.addAll(List.of(options));
        command.add("https://" + host + ":" + port + "/hold?s=" + seconds);
        try {
            return new HoldingClient(new ProcessBuilder(command).start());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + command, e);
        }
    }

    /** The server that answered: the first line of the response body. */
    public String awaitServer(Duration timeout) {
        try {
            String line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (line == null)
                throw new AssertionError("no answer within " + timeout.toMillis() + " ms (curl alive: "
                        + process.isAlive() + ", stderr: " + stderrText() + ")");
            return line.trim();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    /** @return curl's exit code once the response has ended (0: complete) */
    public int awaitEnd(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
                throw new AssertionError("the connection was still open after " + timeout.toMillis() + " ms");
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    public boolean isOpen() {
        return process.isAlive();
    }

    public String stderrText() {
        try {
            return process.isAlive() ? "" : new String(stderr.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            return "";
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
