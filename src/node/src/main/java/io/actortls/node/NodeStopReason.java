package io.actortls.node;

import org.apache.pekko.actor.CoordinatedShutdown;

/** Why ActorTls itself started a node's coordinated shutdown (Pekko's own reasons cover the rest). */
public enum NodeStopReason implements CoordinatedShutdown.Reason {
    /** SIGTERM or SIGINT. */
    SIGNAL,
    /** {@code POST /node/drain} (e.g. {@code actortls node drain}). */
    DRAIN_REQUESTED
}
