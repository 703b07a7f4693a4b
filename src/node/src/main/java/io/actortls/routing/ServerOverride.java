package io.actortls.routing;

import io.actortls.node.ClusterMessage;

/**
 * A runtime change to one server of a pool, kept in Distributed Data so that it applies on every node and
 * outlives the pool entity moving. It replaces the configured server as a whole.
 *
 * @param spec    the server as it now is (address, weight, max-connections)
 * @param removed the server was removed from the pool
 */
public record ServerOverride(ServerSpec spec, AdminState admin, boolean removed) implements ClusterMessage {}
