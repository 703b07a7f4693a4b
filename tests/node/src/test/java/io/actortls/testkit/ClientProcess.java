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
        return new String(stderr.getNow(new byte[0]), StandardCharsets.UTF_8);
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
