package io.actortls.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A client program running alongside the test, whose stdin and stdout the test drives itself (or, to play a
 * client that stops reading, leaves alone). stderr is collected in the background. Closing destroys it.
 */
public final class ClientProcess implements AutoCloseable {
    private final Process process;
    private final CompletableFuture<byte[]> stderr;

    private ClientProcess(Process process) {
        this.process = process;
        this.stderr = Run.drain(process.getErrorStream());
    }

    public static ClientProcess start(List<String> command) {
        try {
            return new ClientProcess(new ProcessBuilder(command).start());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + command, e);
        }
    }

    public OutputStream stdin() {
        return process.getOutputStream();
    }

    /** Writes to the program's stdin and flushes, keeping stdin open. */
    public void send(byte[] bytes) {
        try {
            process.getOutputStream().write(bytes);
            process.getOutputStream().flush();
        } catch (IOException e) {
            throw new AssertionError("writing to the client failed; stderr:\n" + stderr(), e);
        }
    }

    /** Writes to stdin on a thread of its own (for a test that reads stdout meanwhile); stdin stays open. */
    public CompletableFuture<Void> sendInBackground(byte[] bytes) {
        CompletableFuture<Void> sent = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("write-" + process.pid()).start(() -> {
            try {
                send(bytes);
                sent.complete(null);
            } catch (Throwable t) {
                sent.completeExceptionally(t);
            }
        });
        return sent;
    }

    public InputStream stdout() {
        return process.getInputStream();
    }

    /**
     * Reads exactly {@code n} bytes of the program's stdout, failing if they do not all arrive within
     * {@code timeout} (the program is then killed, which also ends the read).
     */
    public byte[] readExactly(int n, Duration timeout) {
        CompletableFuture<byte[]> read = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("read-" + process.pid()).start(() -> {
            try {
                read.complete(process.getInputStream().readNBytes(n));
            } catch (IOException e) {
                read.completeExceptionally(e);
            }
        });
        try {
            byte[] bytes = read.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (bytes.length != n)
                throw new AssertionError("stdout ended after " + bytes.length + " of " + n + " bytes; stderr:\n" + stderr());
            return bytes;
        } catch (TimeoutException e) {
            close();
            throw new AssertionError("fewer than " + n + " bytes on stdout within " + timeout + "; stderr:\n" + stderr());
        } catch (ExecutionException e) {
            throw new AssertionError("reading stdout failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * Reads stdout until {@code marker} has appeared, failing if it does not within {@code timeout}.
     *
     * @return everything read, up to and including the marker
     */
    public byte[] readUntil(String marker, Duration timeout) {
        byte[] wanted = marker.getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream read = new java.io.ByteArrayOutputStream();
        CompletableFuture<byte[]> found = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("read-until-" + process.pid()).start(() -> {
            try {
                int b;
                while ((b = process.getInputStream().read()) >= 0) {
                    read.write(b);
                    if (endsWith(read.toByteArray(), wanted)) {
                        found.complete(read.toByteArray());
                        return;
                    }
                }
                found.completeExceptionally(new AssertionError("stdout ended before \"" + marker + "\":\n" + read + stderr()));
            } catch (IOException e) {
                found.completeExceptionally(e);
            }
        });
        return await(found, timeout, () -> "no \"" + marker + "\" on stdout within " + timeout + ":\n" + read + stderr());
    }

    /** Reads stdout until the program closes it; after {@code timeout} the program is killed, and what came is returned. */
    public byte[] readToEnd(Duration timeout) {
        CompletableFuture<byte[]> all = CompletableFuture.supplyAsync(() -> {
            try {
                return process.getInputStream().readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, runnable -> Thread.ofPlatform().daemon().name("read-all-" + process.pid()).start(runnable));
        try {
            return all.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            close(); // ends the read: what the program wrote so far is returned
            return await(all, Duration.ofSeconds(5), () -> "stdout did not end after the program was killed");
        } catch (ExecutionException e) {
            throw new AssertionError("reading stdout failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static boolean endsWith(byte[] bytes, byte[] suffix) {
        if (bytes.length < suffix.length) return false;
        return java.util.Arrays.equals(bytes, bytes.length - suffix.length, bytes.length, suffix, 0, suffix.length);
    }

    private static byte[] await(CompletableFuture<byte[]> future, Duration timeout, java.util.function.Supplier<String> why) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(why.get());
        } catch (ExecutionException e) {
            throw e.getCause() instanceof AssertionError a ? a : new AssertionError("reading stdout failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Waits for the program to exit by itself; true if it did within {@code timeout}. */
    public boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** What the program wrote to stderr; complete once it has exited. */
    public String stderr() {
        // Once the program has exited its stderr ends too: wait briefly for the last of it.
        byte[] bytes = process.isAlive() ? stderr.getNow(new byte[0]) : stderr.completeOnTimeout(new byte[0], 5, TimeUnit.SECONDS).join();
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Kills the program (SIGTERM, then SIGKILL) and waits for it to be gone. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
