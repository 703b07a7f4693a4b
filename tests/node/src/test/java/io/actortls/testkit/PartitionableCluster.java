package io.actortls.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A cluster of node processes on hosts of their own ({@link NetworkNamespaces}): node N runs on host N with a
 * backend beside it (each on the same port of its host), its listener and management API on that host's loopback, its cluster port on the shared link.
 * Hosts can be unplugged from the link and plugged in again, and a node started again on its host.
 *
 * <p>Every node serves {@code localhost} (TLS 1.2 session IDs and tickets, TLS 1.3 stateless tickets) and
 * {@code stateful.test} (TLS 1.3 stateful tickets), both on the port {@link #TLS_PORT} of its host.
 */
public final class PartitionableCluster implements AutoCloseable {
    public static final int TLS_PORT = 8443;
    private static final int CLUSTER_PORT = 25520;
    /**
     * Every host's backend listens on the same port of its own loopback: a pool is one cluster-wide entity with one
     * list of servers, and "127.0.0.1:8080" is then the backend beside each node.
     */
    private static final int BACKEND_PORT = 8080;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final NetworkNamespaces net;
    private final List<BackendProcess> backends = new ArrayList<>();
    private final List<String> configs = new ArrayList<>();
    private final List<String> management = new ArrayList<>();
    private final List<NodeProcess> nodes = new ArrayList<>();

    private PartitionableCluster(Path dir, NetworkNamespaces net) {
        this.dir = dir;
        this.net = net;
    }

    /** {@code count} nodes, each on its own host, joined through node 1; returns once every node sees them all up. */
    public static PartitionableCluster start(Path dir, int count) {
        PartitionableCluster cluster = new PartitionableCluster(dir, NetworkNamespaces.create(count));
        try {
            TestPki pki = new TestPki(dir);
            TestPki.Cert localhost = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
            TestPki.Cert stateful = pki.issue("stateful", TestPki.KeyType.EC_P256, "stateful.test");
            String seed = cluster.net.address(1) + ":" + CLUSTER_PORT;
            for (int n = 1; n <= count; n++) {
                BackendProcess backend = BackendProcess.start(cluster.net.on(n), BACKEND_PORT);
                cluster.backends.add(backend);
                Hocon hocon = new Hocon(TLS_PORT).cluster(CLUSTER_PORT, List.of(seed), ClusterPki.stores(n))
                        .with("cluster.host = \"" + cluster.net.address(n) + "\"")
                        .vhost("localhost", localhost, List.of("localhost"), List.of(), backend.address())
                        .vhost("stateful", stateful, List.of("stateful.test"), List.of(), backend.address())
                        .with("vhosts.stateful.resumption = \"stateful\"")
                        .defaultVhost("localhost");
                cluster.configs.add(hocon.render());
                cluster.management.add(hocon.management());
                cluster.nodes.add(null);
                cluster.startNode(n);
            }
            for (int n = 1; n <= count; n++) cluster.node(n).awaitMembersUp(count, Duration.ofSeconds(60));
            return cluster;
        } catch (RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    /** Starts node {@code n} on its host with its configuration (again, after it stopped) and waits until it is ready. */
    public NodeProcess startNode(int n) {
        NodeProcess node = NodeProcess.start(net.on(n), dir, configs.get(n - 1), Map.of());
        nodes.set(n - 1, node);
        node.awaitReady(Duration.ofSeconds(60));
        return node;
    }

    public NodeProcess node(int n) {
        return nodes.get(n - 1);
    }

    /** The command prefix that runs a client on node {@code n}'s host. */
    public List<String> on(int n) {
        return net.on(n);
    }

    public void unplug(int n) {
        net.unplug(n);
    }

    public void plug(int n) {
        net.plug(n);
    }

    /** A new session with node {@code n}, from a client on its host, saved to {@code file} in the cluster's directory. */
    public Path newSession(int n, String serverName, SClient.Kind kind, String file) {
        Path session = dir.resolve(file);
        try {
            SClient.newSession(net.on(n), TLS_PORT, serverName, kind, session, "/16", List.of());
        } catch (AssertionError e) {
            throw new AssertionError("node " + n + " closed it as " + node(n).closes().getLast(), e);
        }
        return session;
    }

    /** Whether node {@code n} resumes the saved session, offered by a client on its host. */
    public boolean resumes(int n, String serverName, SClient.Kind kind, Path session) {
        return SClient.resumes(net.on(n), TLS_PORT, serverName, kind, session);
    }

    /** {@code GET path} of node {@code n}'s management API, called from its host with curl; null if it did not answer. */
    public JsonNode get(int n, String path) {
        List<String> command = new ArrayList<>(net.on(n));
        command.addAll(List.of("curl", "-sS", "--fail", "--max-time", "10", "-H", "Authorization: Bearer " + Hocon.MANAGEMENT_TOKEN,
                "http://" + management.get(n - 1) + path));
        Run run = Run.of(command, new byte[0], Duration.ofSeconds(15));
        if (run.exitCode() != 0) return null;
        try {
            return JSON.readTree(run.out());
        } catch (IOException e) {
            throw new AssertionError("not JSON from " + path + ": " + run.out(), e);
        }
    }

    /**
     * Polls {@code GET path} on node {@code n} until {@code condition} holds; returns the answer that met it.
     */
    public JsonNode await(int n, String path, Predicate<JsonNode> condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = get(n, path);
            if (last != null && condition.test(last)) return last;
            BackendProcess.sleep(250);
        }
        throw new AssertionError("node " + n + ": " + what + " not within " + timeout + "; last " + path + ": " + last);
    }

    /** Nodes first, so that no process is left in a namespace being deleted; then backends and the hosts. */
    @Override
    public void close() {
        for (NodeProcess node : nodes.reversed()) if (node != null) node.close();
        backends.forEach(BackendProcess::close);
        net.close();
    }
}
