package io.actortls.node;

/**
 * Marks what crosses the cluster channel (messages between nodes, Distributed Data values); bound to Pekko's
 * Jackson CBOR serializer in pekko.hocon. The channel is mutually authenticated TLS, because some of these
 * carry session secrets and ticket keys.
 */
public interface ClusterMessage {}
