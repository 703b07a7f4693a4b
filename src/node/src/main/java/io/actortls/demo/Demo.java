package io.actortls.demo;

import io.actortls.node.Main;
import java.io.IOException;
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

    static final int TLS_PORT = 8443;
    static final int CLUSTER_PORT = 25520;
    static final int MANAGEMENT_PORT = 7626;

    public static int run(String[] args) {
        String backend = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--backend") && i + 1 < args.length) backend = args[++i];
            else if (args[i].equals("--backend")) return Main.usage("--backend needs HOST:PORT");
            else return Main.usage("unknown argument for demo: " + args[i]);
        }
        Path home = DemoSetup.home();
        try {
            List<DemoCertificates.Vhost> vhosts = DemoCertificates.ensure(home);
            ClusterCertificates.NodeStores stores = ClusterCertificates.ensure(home, 1);
            Process backendProcess = null;
            if (backend == null) {
                int port = DemoSetup.freePort();
                backendProcess = DemoSetup.startBackend("backend-1", port);
                backend = "127.0.0.1:" + port;
            }
            Path config = home.resolve("demo.hocon");
            Files.writeString(config, DemoSetup.nodeConfig(vhosts, List.of(new DemoSetup.Server("backend-1", backend, 1)),
                    "roundrobin", TLS_PORT, CLUSTER_PORT, MANAGEMENT_PORT, List.of(), stores));
            System.out.printf("""
                    ActorTls demo: TLS on https://localhost:%d -> backend %s
                      try:  curl --cacert .actortls/ca.crt https://localhost:8443/
                            curl --cacert .actortls/ca.crt --resolve rsa.localhost:8443:127.0.0.1 https://rsa.localhost:8443/
                            openssl s_client -connect 127.0.0.1:8443 -servername localhost -CAfile .actortls/ca.crt
                      stop: Ctrl-C
                    %n""", TLS_PORT, backend);
            int status = Main.runNode(config, List.of());
            if (backendProcess != null) backendProcess.destroy();
            return status;
        } catch (IOException | InterruptedException e) {
            System.err.println("actortls demo: " + e.getMessage());
            return Main.EXIT_FAILURE;
        }
    }
}
