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
import java.util.concurrent.TimeUnit;

/** Runs a command to completion with a time bound, feeding stdin and capturing stdout and stderr. */
public record Run(int exitCode, byte[] stdout, String stderr) {

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

    public static Run of(List<String> command, byte[] stdin, Duration timeout, Path workDir, Map<String, String> env) {
        try {
            ProcessBuilder builder = new ProcessBuilder(command);
            if (workDir != null) builder.directory(workDir.toFile());
            builder.environment().putAll(env);
            Process process = builder.start();
            CompletableFuture<byte[]> out = drain(process.getInputStream());
            CompletableFuture<byte[]> err = drain(process.getErrorStream());
            Thread.ofPlatform().daemon().name("stdin-" + process.pid()).start(() -> {
                try (OutputStream in = process.getOutputStream()) {
                    if (stdin != null) in.write(stdin);
                } catch (IOException ignored) {
                    // the process may exit before reading everything; its exit code tells
                }
            });
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout
                        + "; stderr: " + new String(err.getNow(new byte[0]), StandardCharsets.UTF_8));
            }
            return new Run(process.exitValue(), out.get(10, TimeUnit.SECONDS),
                    new String(err.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        } catch (IOException | InterruptedException | java.util.concurrent.ExecutionException
                 | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("running " + command + " failed", e);
        }
    }

    /**
     * Reads a stream to its end on a thread of its own. Not the common pool: on a 2-core machine it has one
     * worker, and two blocked drains would starve everything else queued there (such as closing stdin).
     */
    static CompletableFuture<byte[]> drain(InputStream stream) {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("drain").start(() -> {
            try (stream) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                stream.transferTo(bytes);
                result.complete(bytes.toByteArray());
            } catch (IOException e) {
                result.complete(new byte[0]);
            }
        });
        return result;
    }
}
