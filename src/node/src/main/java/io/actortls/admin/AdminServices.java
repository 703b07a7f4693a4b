package io.actortls.admin;

import io.actortls.logging.RecentLogLines;
import io.actortls.metrics.NodeMetrics;
import io.actortls.node.NodeConfig;
import io.actortls.routing.PoolGateway;
import io.actortls.session.SessionReplicator;
import io.actortls.session.SessionServices;
import io.actortls.session.TicketKeyRotator;
import io.actortls.tls.TlsFrontend;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * What the management routes reach on their node, handed over by the node's guardian before the management
 * endpoint starts. An extension, so that Pekko Management (which makes route providers itself, from a class name)
 * finds the handles of its own actor system and of no other: several nodes may share a JVM in tests.
 */
public final class AdminServices implements Extension {

    /**
     * @param self     this node's cluster address as host:port
     * @param admin    this node's {@link NodeAdmin}
     * @param sessions this node's session replicator
     * @param pools    this node's pool gateway
     * @param metrics  this node's Prometheus metrics
     * @param recentLines the JVM's last log lines
     * @param ticketKeyRotator the proxy of the cluster's ticket-key rotator singleton
     */
    public record NodeHandles(NodeConfig config, String self, ActorRef<NodeAdmin.Command> admin,
                              ActorRef<SessionReplicator.Command> sessions, ActorRef<PoolGateway.Command> pools,
                              SessionServices sessionServices, TlsFrontend tls, NodeMetrics metrics,
                              RecentLogLines recentLines, ActorRef<TicketKeyRotator.Command> ticketKeyRotator) {}

    public static final ExtensionId<AdminServices> ID = new Id();

    private static final class Id extends ExtensionId<AdminServices> {
        @Override
        public AdminServices createExtension(ActorSystem<?> system) {
            return new AdminServices();
        }
    }

    private volatile NodeHandles handles;

    public static AdminServices get(ActorSystem<?> system) {
        return system.registerExtension(ID);
    }

    public void register(NodeHandles handles) {
        this.handles = handles;
    }

    /** @throws IllegalStateException before the guardian registered the node's handles */
    public NodeHandles handles() {
        NodeHandles h = handles;
        if (h == null) throw new IllegalStateException("the node has not registered its management handles yet");
        return h;
    }
}
