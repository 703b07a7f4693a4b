package io.actortls.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Where things are, and the real programs the tests drive: the shared load tool and backend, openssl, curl. */
public final class Tools {
    private Tools() {}

    /** The repository's top directory (set by the build; falls back to ../.. from the module). */
    public static Path top() {
        String top = System.getProperty("actortls.top");
        return (top != null ? Path.of(top) : Path.of("../..")).toAbsolutePath().normalize();
    }

    /** ../shared beside the repository: the bench tools and notes, used in place. */
    public static Path shared() {
        return top().resolve("../shared").normalize();
    }

    /** The shared plaintext backend ({@code GET /N} returns N bytes, anything else echoes), built on first use. */
    public static synchronized Path backendBinary() {
        return build("backend", List.of("-lpthread"));
    }

    /** The shared TLS load generator, built on first use. */
    public static synchronized Path tlsloadBinary() {
        return build("tlsload", List.of("-lssl", "-lcrypto", "-lpthread"));
    }

    private static Path build(String name, List<String> libraries) {
        Path source = shared().resolve("bench").resolve(name + ".c");
        Path binary = top().resolve("tests/node/target/tools").resolve(name);
        try {
            if (Files.exists(binary) && Files.getLastModifiedTime(binary).compareTo(Files.getLastModifiedTime(source)) >= 0)
                return binary;
            Files.createDirectories(binary.getParent());
            var command = new java.util.ArrayList<>(List.of("cc", "-std=c11", "-O2", "-o", binary.toString(), source.toString()));
            command.addAll(libraries);
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0)
                throw new IllegalStateException("building " + source + " failed:\n" + output);
            return binary;
        } catch (IOException e) {
            throw new IllegalStateException("building " + source + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Ports handed out by {@link #freePort}: below the kernel's ephemeral range (32768-60999 here), so that no
     * outgoing connection of a node, curl or tlsload takes one between our check and the node's bind; and from one
     * sequence shared by every test JVM of the machine (a counter file under a file lock), so that two test classes
     * running side by side in two surefire forks are never given the same port.
     */
    private static final int PORTS_FROM = 20000, PORTS_TO = 32000;
    private static final java.util.Set<Integer> FIXED_PORTS = java.util.Set.of(25520, 25521, 25522);
    private static final Path PORT_COUNTER = Path.of(System.getProperty("java.io.tmpdir"), "actortls-test-ports");

    /** A TCP port on 127.0.0.1 that was free a moment ago and that no other test of this run was given. */
    public static synchronized int freePort() {
        for (int attempt = 0; attempt < PORTS_TO - PORTS_FROM; attempt++) {
            int port = nextPortInSequence();
            if (!FIXED_PORTS.contains(port) && canBind(port)) return port;
        }
        throw new IllegalStateException("no free port on 127.0.0.1 between " + PORTS_FROM + " and " + PORTS_TO);
    }

    private static int nextPortInSequence() {
        try (var channel = java.nio.channels.FileChannel.open(PORT_COUNTER, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE);
             var lock = channel.lock()) {
            var buffer = java.nio.ByteBuffer.allocate(16);
            channel.read(buffer, 0);
            String text = new String(buffer.array(), 0, buffer.position(), java.nio.charset.StandardCharsets.US_ASCII).strip();
            int port = text.matches("[0-9]+") ? Integer.parseInt(text) : PORTS_FROM;
            if (port < PORTS_FROM || port >= PORTS_TO) port = PORTS_FROM;
            channel.truncate(0);
            channel.write(java.nio.ByteBuffer.wrap(Integer.toString(port + 1).getBytes(java.nio.charset.StandardCharsets.US_ASCII)), 0);
            return port;
        } catch (IOException e) {
            throw new IllegalStateException("cannot use the port counter " + PORT_COUNTER, e);
        }
    }

    /** Whether this process could bind 127.0.0.1:{@code port} just now (for tests that need a fixed port). */
    public static boolean canBind(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException taken) {
            return false;
        }
    }

    /** Whether something accepts TCP connections on 127.0.0.1:{@code port} (a refused connect answers at once). */
    public static boolean isListening(int port) {
        try (java.net.Socket probe = new java.net.Socket()) {
            probe.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
            return true;
        } catch (IOException refused) {
            return false;
        }
    }

    /** Waits until something accepts connections on 127.0.0.1:{@code port} (a server process has started). */
    public static void awaitListening(int port, java.time.Duration timeout) {
        awaitListening(port, true, timeout);
    }

    /** Waits until nothing accepts connections on 127.0.0.1:{@code port} any more (e.g. a listener was closed). */
    public static void awaitNotListening(int port, java.time.Duration timeout) {
        awaitListening(port, false, timeout);
    }

    private static void awaitListening(int port, boolean listening, java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (isListening(port) != listening) {
            if (System.nanoTime() > deadline)
                throw new AssertionError("port " + port + (listening ? " accepts nothing" : " still accepts") + " after " + timeout);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** The JVM flags every ActorTls JVM runs with (the launcher uses the same). */
    public static List<String> jvmFlags() {
        var flags = new java.util.ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "-Xmx512m"));
        if (Runtime.version().feature() >= 23) flags.add("--sun-misc-unsafe-memory-access=allow");
        return flags;
    }

    /** The java binary running this test, used for child JVMs. */
    public static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }
}
