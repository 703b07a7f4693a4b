package io.actortls.demo;

import io.actortls.node.Main;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code actortls demo}: one node on 127.0.0.1:8443 with the demo's two vhosts ({@code localhost}, ECDSA;
 * {@code rsa.localhost}, RSA) in front of a demo backend process (or {@code --backend HOST:PORT}).
 * Certificates are made on the first run in {@code .actortls/}. Stops with SIGINT or SIGTERM, backend included.
 */
public final class Demo {
    private Demo() {}

    public static int run(String[] args) {
        String backend = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--backend") && i + 1 < args.length) backend = args[++i];
            else return Main.usage("unknown argument for demo: " + args[i]);
        }
        Path home = Path.of(".actortls").toAbsolutePath();
        try {
            List<DemoCertificates.Vhost> vhosts = DemoCertificates.ensure(home);
            Process backendProcess = null;
            if (backend == null) {
                int port = freePort();
                backendProcess = startBackend(port);
                backend = "127.0.0.1:" + port;
            }
            Path config = home.resolve("demo.hocon");
            Files.writeString(config, demoConfig(vhosts, backend));
            System.out.printf("""
                    ActorTls demo: TLS on https://localhost:8443 -> backend %s
                      try:  curl --cacert .actortls/ca.crt https://localhost:8443/
                            curl --cacert .actortls/ca.crt --resolve rsa.localhost:8443:127.0.0.1 https://rsa.localhost:8443/
                            openssl s_client -connect 127.0.0.1:8443 -servername localhost -CAfile .actortls/ca.crt
                      stop: Ctrl-C
                    %n""", backend);
            int status = Main.runNode(config);
            if (backendProcess != null) backendProcess.destroy();
            return status;
        } catch (IOException | InterruptedException e) {
            System.err.println("actortls demo: " + e.getMessage());
            return Main.EXIT_FAILURE;
        }
    }

    private static Process startBackend(int port) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "demo-backend", "--port", Integer.toString(port), "--name", "demo-backend")
                .inheritIO().start();
        // The node stops on SIGINT/SIGTERM through its shutdown hook; the backend goes with it.
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroy, "stop-demo-backend"));
        return process;
    }

    private static String demoConfig(List<DemoCertificates.Vhost> vhosts, String backend) {
        StringBuilder hocon = new StringBuilder("""
                # Written by `actortls demo` on each start.
                actortls {
                  default-vhost = "localhost"
                  vhosts {
                """);
        for (DemoCertificates.Vhost v : vhosts) {
            hocon.append("""
                        "%s" {
                          server-names = ["%s"]
                          certificate = "%s"
                          key = "%s"
                          alpn = ["http/1.1"]
                          backends = ["%s"]
                        }
                    """.formatted(v.name(), v.name(), v.certificate(), v.key(), backend));
        }
        return hocon.append("  }\n}\n").toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
