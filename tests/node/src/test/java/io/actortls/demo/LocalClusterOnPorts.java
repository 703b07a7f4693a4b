package io.actortls.demo;

import java.util.Arrays;

/**
 * {@code actortls local-cluster ARGS} on first ports a test chose ({@code FIRST_TLS FIRST_CLUSTER FIRST_MANAGEMENT
 * ARGS...}), run as a process of its own in the directory whose {@code .actortls/} it uses: the command itself
 * always takes 8443.., 25520.. and 7626.., which may belong to a person's running cluster.
 */
public final class LocalClusterOnPorts {
    private LocalClusterOnPorts() {}

    public static void main(String[] args) {
        var ports = new LocalCluster.Ports(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]));
        System.exit(LocalCluster.run(Arrays.copyOfRange(args, 3, args.length), ports));
    }
}
