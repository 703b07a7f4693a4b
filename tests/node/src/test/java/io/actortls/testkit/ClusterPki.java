package io.actortls.testkit;

import io.actortls.demo.ClusterCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Cluster-channel certificates for tests, made once per test JVM with the same code as the demo's:
 * {@link #stores(int)} for nodes of the test cluster CA, {@link #foreignStores()} for a node of another CA.
 */
public final class ClusterPki {
    private ClusterPki() {}

    private static Path dir;
    private static Path foreignDir;
    private static final Map<Integer, ClusterCertificates.NodeStores> STORES = new HashMap<>();

    public static synchronized ClusterCertificates.NodeStores stores(int node) {
        return STORES.computeIfAbsent(node, n -> make(home(), n));
    }

    /** Stores signed by a different CA than {@link #stores(int)}: such a node must not get into the cluster. */
    public static synchronized ClusterCertificates.NodeStores foreignStores() {
        try {
            if (foreignDir == null) foreignDir = Files.createTempDirectory("actortls-foreign-ca");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return make(foreignDir, 1);
    }

    private static Path home() {
        try {
            if (dir == null) dir = Files.createTempDirectory("actortls-cluster-ca");
            return dir;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ClusterCertificates.NodeStores make(Path home, int node) {
        try {
            return ClusterCertificates.ensure(home, node);
        } catch (IOException e) {
            throw new IllegalStateException("making cluster certificates failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
