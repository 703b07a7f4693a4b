package io.actortls.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

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

    public InputStream stdout() {
        return process.getInputStream();
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
