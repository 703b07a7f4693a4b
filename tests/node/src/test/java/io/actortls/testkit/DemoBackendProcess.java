package io.actortls.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The demo HTTP backend ({@code actortls demo-backend}) as a real process on 127.0.0.1: {@code GET /} names it,
 * {@code GET /hold?s=N} names it at once and keeps the response open N seconds, {@code GET /proxy} (with
 * {@code acceptProxy}) shows the PROXY header it parsed.
 */
public final class DemoBackendProcess implements AutoCloseable {
    private final Process process;
    private final String name;
    private final int port;

    private DemoBackendProcess(Process process, String name, int port) {
        this.process = process;
        this.name = name;
        this.port = port;
    }

    /**
     * On a free port. Two backends started at once can be handed the same "free" port; the one that loses the
     * bind exits, and is started again on another port.
     */
    public static DemoBackendProcess start(String name) {
        for (int attempt = 1; ; attempt++) {
            try {
                return start(name, Tools.freePort(), false);
            } catch (IllegalStateException e) {
                if (attempt == 3) throw e;
            }
        }
    }

    public static DemoBackendProcess start(String name, int port, boolean acceptProxy) {
        List<String> command = new ArrayList<>();
        command.add(Tools.java());
        command.addAll(Tools.jvmFlags());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.actortls.node.Main", "demo-backend",
                "--port", Integer.toString(port), "--name", name));
        if (acceptProxy) command.add("--accept-proxy");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            DemoBackendProcess backend = new DemoBackendProcess(process, name, port);
            backend.awaitListening();
            return backend;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start demo backend " + name, e);
        }
    }

    public String name() {
        return name;
    }

    public int port() {
        return port;
    }

    public String address() {
        return "127.0.0.1:" + port;
    }

    /** A pool server entry for {@link Hocon#pool}: {@code { name, address, weight }}. */
    public String server(int weight) {
        return "{ name = \"%s\", address = \"%s\", weight = %d }".formatted(name, address(), weight);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL: the port closes at once, as when a server crashes. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Until this process answers on the port: another process listening there does not count. */
    private void awaitListening() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline && process.isAlive()) {
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port), 200);
                probe.setSoTimeout(2000);
                probe.getOutputStream().write("GET / HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                String answer = new String(probe.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                if (answer.contains("Hello from " + name + "\n") && process.isAlive()) return;
                break; // someone else's server on this port
            } catch (IOException notYet) {
                if (!process.isAlive()) break;
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        close();
        throw new IllegalStateException("demo backend " + name + " did not start listening on " + port);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
