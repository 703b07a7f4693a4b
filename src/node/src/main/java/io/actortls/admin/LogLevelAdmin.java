package io.actortls.admin;

import io.actortls.logging.LogLevels;
import io.actortls.node.ClusterMessage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One per node: sets a logger's level on this node when asked; {@code PUT /log/level} on any node asks every
 * node's ({@link ClusterFanOut}), so one call changes the whole cluster.
 */
public final class LogLevelAdmin {
    private LogLevelAdmin() {}

    public sealed interface Command extends ClusterMessage {}

    /** @param level one that {@link LogLevels#parse} accepted */
    public record SetLevel(String logger, String level, ActorRef<Level> replyTo) implements Command {}

    /** The logger's level on one node after the change. */
    public record Level(String logger, String level, String effectiveLevel) implements ClusterMessage {}

    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "actortls-log-levels");

    public static Behavior<Command> create() {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
            return Behaviors.receive(Command.class)
                    .onMessage(SetLevel.class, m -> {
                        LogLevels.LoggerLevel now = LogLevels.set(m.logger(), m.level());
                        ctx.getLog().info("log level of {} set to {}", now.logger(), m.level());
                        m.replyTo().tell(new Level(now.logger(), now.level(), now.effectiveLevel()));
                        return Behaviors.same();
                    })
                    .build();
        });
    }
}
