package io.actortls.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** Runs a command to completion with a time bound, feeding stdin and capturing stdout and stderr. */
public record Run(int exitCode, byte[] stdout, String stderr) {
    /**
     * A thread per blocking task (stdin, stdout, stderr, background runs). Not the common pool: on a 2-core
     * machine it has one thread, which JDK 25's CompletableFuture uses anyway, so a stdout drain would block
     * the stdin writer and the stderr drain until the process exits.
     */
    private static final ExecutorService IO =
            Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon().name("run-io-", 0).factory());

    public String out() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    /** stdout and stderr together, for assertion messages and pattern checks on client output. */
    public String all() {
        return out() + "\n" + stderr;
    }

    public static Run of(List<String> command, byte[] stdin, Duration timeout) {
        return of(command, stdin, timeout, null, Map.of());
    }

    /** {@link #of(List, byte[], Duration)} on a thread of its own, e.g. a client while the test thread serves it. */
    public static CompletableFuture<Run> start(List<String> command, byte[] stdin, Duration timeout) {
        return CompletableFuture.supplyAsync(() -> of(command, stdin, timeout), IO);
    }

    public static Run of(List<String> command, byte[] stdin, Duration timeout, Path workDir, Map<String, String> env) {
        try {
            ProcessBuilder builder = new ProcessBuilder(command);
            if (workDir != null) builder.directory(workDir.toFile());
            builder.environment().putAll(env);
            Process process = builder.start();
            CompletableFuture<byte[]> out = drain(process.getInputStream());
            CompletableFuture<byte[]> err = drain(process.getErrorStream());
            CompletableFuture.runAsync(() -> {
                try (OutputStream in = process.getOutputStream()) {
                    if (stdin != null) in.write(stdin);
                } catch (IOException ignored) {
                    // the process may exit before reading everything; its exit code tells
                }
            }, IO);
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                // The pipes close with the process: show what it printed before it was killed.
                throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout
                        + "; stdout: " + new String(out.completeOnTimeout(new byte[0], 5, TimeUnit.SECONDS).join(), StandardCharsets.UTF_8)
                        + "\nstderr: " + new String(err.completeOnTimeout(new byte[0], 5, TimeUnit.SECONDS).join(), StandardCharsets.UTF_8));
            }
            return new Run(process.exitValue(), out.get(10, TimeUnit.SECONDS),
                    new String(err.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        } catch (IOException | InterruptedException | java.util.concurrent.ExecutionException
                 | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("running " + command + " failed", e);
        }
    }

    static CompletableFuture<byte[]> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                stream.transferTo(bytes);
                return bytes.toByteArray();
            } catch (IOException e) {
                return new byte[0];
            }
        }, IO);
    }
}
