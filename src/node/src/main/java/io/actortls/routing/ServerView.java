package io.actortls.routing;

import io.actortls.node.ClusterMessage;

/**
 * One server as its pool entity sees it: what the admin API shows, and what nodes balance on when the entity
 * cannot answer in time.
 *
 * @param effectiveWeight the weight after slow start
 * @param active          open connections across the cluster
 */
public record ServerView(ServerSpec spec, AdminState admin, boolean healthy, String healthReason,
                         double effectiveWeight, int active) implements ClusterMessage {

    /** May take a new connection, leaving max-connections aside. */
    public boolean available() {
        return admin == AdminState.ENABLED && healthy;
    }

    public boolean full() {
        return spec.maxConnections() > 0 && active >= spec.maxConnections();
    }
}
