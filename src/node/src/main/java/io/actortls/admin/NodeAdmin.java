package io.actortls.admin;

import io.actortls.metrics.NodeMetrics;
import io.actortls.node.ClusterMessage;
import java.lang.management.ManagementFactory;
import io.actortls.node.NodeStopReason;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One per node: answers the management API's questions about this node and carries out changes that every node
 * makes for itself. A call on any node reaches every node's NodeAdmin through the receptionist
 * ({@link ClusterFanOut}), which is how changes made through one node apply to the whole cluster.
 */
public final class NodeAdmin {
    private NodeAdmin() {}

    public sealed interface Command extends ClusterMessage {}

    /** Who this node is. */
    public record Describe(ActorRef<NodeInfo> replyTo) implements Command {}

    /**
     * @param node       cluster address as host:port
     * @param management the management endpoint as host:port
     */
    public record NodeInfo(String node, String management, String openssl, long uptimeSeconds, List<String> listeners)
            implements ClusterMessage {}

    /** This node's traffic counters, for the dashboard. */
    public record GetFigures(ActorRef<NodeMetrics.Figures> replyTo) implements Command {}

    /** Stop this node gracefully (coordinated shutdown: stop accepting, drain, hand over, leave). */
    public record Drain(ActorRef<DrainStarted> replyTo) implements Command {}

    /** @param drainDeadlineSeconds how long the node lets open connections finish */
    public record DrainStarted(String node, long drainDeadlineSeconds) implements ClusterMessage {}

    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "actortls-node-admin");

    public static Behavior<Command> create(AdminServices services) {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
            return Behaviors.receive(Command.class)
                    .onMessage(Describe.class, m -> {
                        m.replyTo().tell(describe(services.handles()));
                        return Behaviors.same();
                    })
                    .onMessage(GetFigures.class, m -> {
                        m.replyTo().tell(services.handles().metrics().figures());
                        return Behaviors.same();
                    })
                    .onMessage(Drain.class, m -> {
                        var h = services.handles();
                        m.replyTo().tell(new DrainStarted(h.self(), h.config().shutdown().drainDeadline().toSeconds()));
                        CoordinatedShutdown.get(Adapter.toClassic(ctx.getSystem()))
                                .run(NodeStopReason.DRAIN_REQUESTED, Optional.empty());
                        return Behaviors.same();
                    })
                    .build();
        });
    }

    private static NodeInfo describe(AdminServices.NodeHandles h) {
        var management = h.config().management();
        return new NodeInfo(h.self(), management.host() + ":" + management.port(), io.actortls.tls.OpenSsl.version(),
                ManagementFactory.getRuntimeMXBean().getUptime() / 1000,
                h.config().listeners().stream().map(l -> l.name() + " " + l.host() + ":" + l.port()).toList());
    }
}
