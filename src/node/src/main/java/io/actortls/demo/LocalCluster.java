package io.actortls.demo;

import io.actortls.node.Main;
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
 * {@code actortls local-cluster --nodes N}: N nodes as N separate JVM processes on 127.0.0.1, forming one cluster
 * through node 1, with the demo's vhosts, certificates and backend. Node i serves TLS on 8443+i-1 and the cluster
 * channel on 25520+i-1. Runs in the foreground; SIGINT or SIGTERM stops every process it started.
 */
public final class LocalCluster {
    private LocalCluster() {}

    static final int FIRST_TLS_PORT = 8443;
    static final int FIRST_CLUSTER_PORT = 25520;

    public static int run(String[] args) {
        int nodes = 3;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--nodes") && i + 1 < args.length) {
                try {
                    nodes = Integer.parseInt(args[++i]);
                } catch (NumberFormatException e) {
                    nodes = -1;
                }
            } else {
                return Main.usage("unknown argument for local-cluster: " + args[i]);
            }
        }
        if (nodes < 1 || nodes > 20) return Main.usage("--nodes must be between 1 and 20");
        Path home = DemoSetup.home();
        List<Process> processes = new ArrayList<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stopAll(processes), "stop-local-cluster"));
        try {
            List<DemoCertificates.Vhost> vhosts = DemoCertificates.ensure(home);
            int backendPort = DemoSetup.freePort();
            processes.add(DemoSetup.startBackend("demo-backend", backendPort));
            String seed = "127.0.0.1:" + FIRST_CLUSTER_PORT;
            Path dir = home.resolve("local-cluster");
            Files.createDirectories(dir);
            for (int i = 1; i <= nodes; i++) {
                ClusterCertificates.NodeStores stores = ClusterCertificates.ensure(home, i);
                Path config = dir.resolve("node-" + i + ".hocon");
                Files.writeString(config, DemoSetup.nodeConfig(vhosts, List.of("127.0.0.1:" + backendPort),
                        FIRST_TLS_PORT + i - 1, FIRST_CLUSTER_PORT + i - 1, List.of(seed), stores));
                processes.add(startNode(i, config));
            }
            System.out.printf("""
                    ActorTls local cluster: %d nodes, TLS on 127.0.0.1:%d..%d, demo backend on 127.0.0.1:%d
                      try:  curl --cacert .actortls/ca.crt https://localhost:8443/
                      stop: Ctrl-C
                    %n""", nodes, FIRST_TLS_PORT, FIRST_TLS_PORT + nodes - 1, backendPort);
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
        command.addAll(ProcessHandle.current().info().arguments().map(LocalCluster::jvmFlags).orElse(List.of()));
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

    /** The JVM options this launcher JVM runs with (flags before the main class), for its node JVMs. */
    private static List<String> jvmFlags(String[] arguments) {
        List<String> flags = new ArrayList<>();
        for (String argument : arguments) {
            if (argument.equals("-cp") || argument.equals("-classpath") || !argument.startsWith("-")) break;
            flags.add(argument);
        }
        return flags;
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
