package io.actortls.demo;

import io.actortls.node.Main;
import io.actortls.routing.Algorithm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code actortls local-cluster --nodes N [--algorithm roundrobin|leastconn|source]}: N nodes as N separate JVM
 * processes on 127.0.0.1, forming one cluster through node 1, with the demo's vhosts and certificates in front of
 * the pool {@code demo}: three demo backend processes {@code backend-1..3} with weights 1, 2, 3. Node i serves
 * TLS on 8443+i-1, the cluster channel on 25520+i-1 and the management API on 7626+i-1 (token in
 * {@code .actortls/management.token}). Runs in the foreground; SIGINT or SIGTERM stops every
 * process it started.
 */
public final class LocalCluster {
    private LocalCluster() {}

    static final int FIRST_TLS_PORT = 8443;
    static final int FIRST_CLUSTER_PORT = 25520;
    static final int FIRST_MANAGEMENT_PORT = 7626;
    static final int BACKENDS = 3;

    /** Node i listens on each first port + i - 1. */
    record Ports(int firstTls, int firstCluster, int firstManagement) {}

    public static int run(String[] args) {
        return run(args, new Ports(FIRST_TLS_PORT, FIRST_CLUSTER_PORT, FIRST_MANAGEMENT_PORT));
    }

    /** As the command, on other ports: tests must not take the documented ones from a person's running cluster. */
    static int run(String[] args, Ports ports) {
        int nodes = 3;
        String nodesText = "3";
        String algorithm = "roundrobin";
        for (int i = 0; i < args.length; i++) {
            if ((args[i].equals("--nodes") || args[i].equals("--algorithm")) && i + 1 == args.length)
                return Main.usage(args[i] + " needs a value");
            if (args[i].equals("--nodes")) {
                nodesText = args[++i];
                try {
                    nodes = Integer.parseInt(nodesText);
                } catch (NumberFormatException e) {
                    nodes = -1;
                }
            } else if (args[i].equals("--algorithm")) {
                algorithm = args[++i];
                if (Algorithm.fromLabel(algorithm).isEmpty())
                    return Main.usage("--algorithm must be roundrobin, leastconn or source, not " + algorithm);
            } else {
                return Main.usage("unknown argument for local-cluster: " + args[i]);
            }
        }
        if (nodes < 1 || nodes > 20) return Main.usage("--nodes must be between 1 and 20, not " + nodesText);
        Path home = DemoSetup.home();
        List<Process> processes = new ArrayList<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopAll(processes), "stop-local-cluster"));
        try {
            List<DemoCertificates.Vhost> vhosts = DemoCertificates.ensure(home);
            List<DemoSetup.Server> servers = new ArrayList<>();
            for (int b = 1; b <= BACKENDS; b++) {
                DemoSetup.Server server = new DemoSetup.Server("backend-" + b, "127.0.0.1:" + DemoSetup.freePort(), b);
                processes.add(DemoSetup.startBackend(server.name(), Integer.parseInt(server.address().split(":")[1])));
                servers.add(server);
            }
            String seed = "127.0.0.1:" + ports.firstCluster();
            Path dir = home.resolve("local-cluster");
            Files.createDirectories(dir);
            for (int i = 1; i <= nodes; i++) {
                ClusterCertificates.NodeStores stores = ClusterCertificates.ensure(home, i);
                Path config = dir.resolve("node-" + i + ".hocon");
                Files.writeString(config, DemoSetup.nodeConfig(vhosts, servers, algorithm,
                        ports.firstTls() + i - 1, ports.firstCluster() + i - 1, ports.firstManagement() + i - 1,
                        List.of(seed), stores));
                processes.add(startNode(i, config));
            }
            System.out.printf("""
                    ActorTls local cluster: %d nodes, TLS on 127.0.0.1:%d..%d, management API on 127.0.0.1:%d..%d
                      pool demo (%s): %s
                      try:  curl --cacert .actortls/ca.crt https://localhost:%d/
                            curl --cacert .actortls/ca.crt https://localhost:%d/hold?s=30
                            ./actortls cluster show          (token: .actortls/management.token)
                            ./actortls connect 127.0.0.1:%d
                      dashboard: http://127.0.0.1:%d/   (log in with the token: ./actortls token)
                      stop: Ctrl-C
                    %n""", nodes, ports.firstTls(), ports.firstTls() + nodes - 1, ports.firstManagement(),
                    ports.firstManagement() + nodes - 1, algorithm, servers.stream()
                    .map(s -> s.name() + " " + s.address() + " weight " + s.weight()).toList(), ports.firstTls(),
                    ports.firstTls(), ports.firstManagement(), ports.firstManagement());
            for (Process p : processes) p.waitFor();
            return 0;
        } catch (IOException e) {
            System.err.println("actortls local-cluster: " + e.getMessage());
            return Main.EXIT_FAILURE;
        } catch (InterruptedException e) {
            return 0;
        }
    }

    private static Process startNode(int index, Path config) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        // This JVM's own flags (native access, Unsafe, GC), so each node runs as the launcher started us.
        command.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of(Main.class.getName(), "node", "--config", config.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        DemoSetup.withOurClassPath(builder);
        Process process = builder.start();
        String prefix = "[node-" + index + "] ";
        Thread.ofPlatform().daemon().name("node-" + index + "-output").start(() -> {
            try (var reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = reader.readLine()) != null; ) System.out.println(prefix + line);
            } catch (IOException ignored) {
                // the node ended
            }
        });
        return process;
    }

    private static void stopAll(List<Process> processes) {
        processes.forEach(Process::destroy);
        for (Process p : processes) {
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
