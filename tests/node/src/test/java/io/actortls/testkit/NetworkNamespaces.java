package io.actortls.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Hosts of a test's own, one Linux network namespace each: a host's loopback carries what stays on it (its clients,
 * its backend, the node's listener and management API), and its {@code eth0} (10.77.0.(10+N)/24) is plugged into
 * a bridge, itself in a namespace of its own, that carries the cluster's traffic between hosts. Unplugging a host
 * from the bridge partitions it from the others while its own clients still reach it, as when a switch port or a
 * rack's uplink fails.
 *
 * <p>Needs root and iproute2 ({@code ip netns}). Names carry this JVM's pid, so test JVMs running at once do not
 * meet; namespaces left behind by a JVM that died are removed by the next one.
 */
public final class NetworkNamespaces implements AutoCloseable {
    private static final String PREFIX = "atls-";
    private static final Duration IP_TIMEOUT = Duration.ofSeconds(10);

    private final String run = PREFIX + ProcessHandle.current().pid() + "-";
    private final int hosts;

    private NetworkNamespaces(int hosts) {
        this.hosts = hosts;
    }

    /** Hosts 1..{@code hosts}, plugged in and up. */
    public static NetworkNamespaces create(int hosts) {
        removeLeftovers();
        NetworkNamespaces net = new NetworkNamespaces(hosts);
        try {
            String bridge = net.bridgeNamespace();
            ip("netns", "add", bridge);
            ip("-n", bridge, "link", "add", "br0", "type", "bridge");
            ip("-n", bridge, "link", "set", "br0", "up");
            for (int host = 1; host <= hosts; host++) {
                String ns = net.namespace(host);
                ip("netns", "add", ns);
                ip("-n", ns, "link", "set", "lo", "up");
                ip("link", "add", port(host), "netns", bridge, "type", "veth", "peer", "name", "eth0", "netns", ns);
                ip("-n", bridge, "link", "set", port(host), "master", "br0");
                ip("-n", ns, "addr", "add", net.address(host) + "/24", "dev", "eth0");
                ip("-n", ns, "link", "set", "eth0", "up");
                net.plug(host);
            }
            return net;
        } catch (RuntimeException | Error e) {
            net.close();
            throw e;
        }
    }

    /** The host's address on the shared link, where other hosts reach it. */
    public String address(int host) {
        return "10.77.0." + (10 + host);
    }

    /** The command prefix that runs a program on this host: {@code ip netns exec NS} (it execs in place). */
    public List<String> on(int host) {
        return List.of("ip", "netns", "exec", namespace(host));
    }

    /** Takes the host's cable out of the bridge: packets to and from it are lost, its loopback still works. */
    public void unplug(int host) {
        ip("-n", bridgeNamespace(), "link", "set", port(host), "down");
    }

    public void plug(int host) {
        ip("-n", bridgeNamespace(), "link", "set", port(host), "up");
    }

    /** Deletes the namespaces (processes still in them must have been stopped first). */
    @Override
    public void close() {
        for (int host = 1; host <= hosts; host++) Run.of(List.of("ip", "netns", "del", namespace(host)), new byte[0], IP_TIMEOUT);
        Run.of(List.of("ip", "netns", "del", bridgeNamespace()), new byte[0], IP_TIMEOUT);
    }

    private String namespace(int host) {
        return run + "h" + host;
    }

    private String bridgeNamespace() {
        return run + "bridge";
    }

    /** The bridge's end of the host's cable (interface names live in the bridge's namespace only). */
    private static String port(int host) {
        return "h" + host;
    }

    private static void removeLeftovers() {
        Run list = Run.of(List.of("ip", "netns", "list"), new byte[0], IP_TIMEOUT);
        if (list.exitCode() != 0) throw new AssertionError("ip netns list failed (iproute2 and root are needed): " + list.all());
        for (String line : list.out().lines().toList()) {
            String name = line.split(" ")[0];
            if (!name.startsWith(PREFIX)) continue;
            String[] parts = name.split("-");
            boolean owned = parts.length >= 3 && parts[1].matches("\\d+")
                    && ProcessHandle.of(Long.parseLong(parts[1])).map(ProcessHandle::isAlive).orElse(false);
            if (!owned) Run.of(List.of("ip", "netns", "del", name), new byte[0], IP_TIMEOUT);
        }
    }

    private static void ip(String... args) {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        Run run = Run.of(command, new byte[0], IP_TIMEOUT);
        if (run.exitCode() != 0)
            throw new AssertionError(String.join(" ", command) + " failed (network namespaces need root and iproute2): " + run.all());
    }
}
