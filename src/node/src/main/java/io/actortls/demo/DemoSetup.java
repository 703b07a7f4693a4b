package io.actortls.demo;

import io.actortls.node.Main;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/** What `actortls demo` and `actortls local-cluster` share: demo backends as processes and node configuration. */
final class DemoSetup {
    private DemoSetup() {}

    static Path home() {
        return Path.of(".actortls").toAbsolutePath();
    }

    /** Starts a demo backend JVM; it is stopped when this JVM exits (SIGINT, SIGTERM or normally). */
    static Process startBackend(String name, int port) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder builder = new ProcessBuilder(java, Main.class.getName(), "demo-backend",
                "--port", Integer.toString(port), "--name", name).inheritIO();
        withOurClassPath(builder);
        Process process = builder.start();
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroy, "stop-" + name));
        awaitListening(name, port, process);
        return process;
    }

    /** Nodes start after their backends listen, so that the first health checks find them up. */
    private static void awaitListening(String name, int port, Process process) throws IOException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && process.isAlive()) {
            try (java.net.Socket probe = new java.net.Socket()) {
                probe.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return;
            } catch (IOException notYet) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        throw new IOException("demo backend " + name + " did not start listening on 127.0.0.1:" + port);
    }

    /** Child JVMs get our class path through CLASSPATH, which keeps their command lines short and readable in ps. */
    static void withOurClassPath(ProcessBuilder builder) {
        builder.environment().put("CLASSPATH", System.getProperty("java.class.path"));
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** A demo backend server of the demo pool. */
    record Server(String name, String address, int weight) {}

    /**
     * A node's configuration: the demo vhosts in front of the pool {@code demo} of {@code servers}, balanced by
     * {@code algorithm} and checked over HTTP every second, on the given ports.
     */
    static String nodeConfig(List<DemoCertificates.Vhost> vhosts, List<Server> servers, String algorithm, int tlsPort,
                             int clusterPort, int managementPort, List<String> seeds, ClusterCertificates.NodeStores stores)
            throws IOException {
        StringBuilder hocon = new StringBuilder("""
                # Written by `actortls demo` / `actortls local-cluster` on each start.
                actortls {
                  listeners = [ { name = "demo", port = %d } ]
                  default-vhost = "localhost"
                  cluster {
                    port = %d
                    seed-nodes = %s
                    tls {
                      key-store = "%s"
                      key-store-password = "%s"
                      trust-store = "%s"
                      trust-store-password = "%s"
                    }
                  }
                  management {
                    port = %d
                    token-file = "%s"
                  }
                  pools {
                    demo {
                      algorithm = "%s"
                      servers = [
                %s
                      ]
                      health { check = "http", interval = 1s, timeout = 500ms, rise = 2, fall = 2 }
                    }
                  }
                  vhosts {
                """.formatted(tlsPort, clusterPort, quoted(seeds), stores.keyStore(), stores.password(),
                stores.trustStore(), stores.password(), managementPort, managementToken(), algorithm, String.join(",\n", servers.stream().map(s ->
                        "        { name = \"%s\", address = \"%s\", weight = %d }".formatted(s.name(), s.address(), s.weight()))
                        .toList())));
        for (DemoCertificates.Vhost v : vhosts) {
            hocon.append("""
                        "%s" {
                          server-names = ["%s"]
                          certificate = "%s"
                          key = "%s"
                          alpn = ["http/1.1"]
                          pool = "demo"
                        }
                    """.formatted(v.name(), v.name(), v.certificate(), v.key()));
        }
        return hocon.append("  }\n}\n").toString();
    }

    /**
     * The demo's management token, made on first use (random, readable by this user only) and kept, so that the
     * CLI finds it ({@code .actortls/management.token}) without being told.
     */
    static Path managementToken() throws IOException {
        Path file = home().resolve("management.token");
        if (!Files.isRegularFile(file)) {
            Files.createDirectories(file.getParent());
            byte[] random = new byte[24];
            new SecureRandom().nextBytes(random);
            Path partial = Files.createTempFile(file.getParent(), "management", ".token",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(partial, HexFormat.of().formatHex(random) + "\n");
            Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
        }
        return file;
    }

    private static String quoted(List<String> items) {
        return items.stream().map(s -> "\"" + s + "\"").toList().toString();
    }
}
