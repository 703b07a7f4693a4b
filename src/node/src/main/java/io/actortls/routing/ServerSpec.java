package io.actortls.routing;

import io.actortls.node.ClusterMessage;

/**
 * A backend server of a pool as configured or added at runtime.
 *
 * @param maxConnections open connections across the cluster; 0: no limit
 */
public record ServerSpec(String name, String host, int port, int weight, int maxConnections) implements ClusterMessage {
    public String address() {
        return host + ":" + port;
    }
}
