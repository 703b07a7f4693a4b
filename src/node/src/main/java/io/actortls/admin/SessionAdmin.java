package io.actortls.admin;

import io.actortls.node.ClusterMessage;
import io.actortls.session.SessionReplicator;
import io.actortls.session.SessionServices;
import io.actortls.session.SessionStats;
import io.actortls.session.SessionSummary;
import io.actortls.session.TicketKeyState;
import io.actortls.tls.TlsFrontend;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One per node: answers the management API about this node's session cache and ticket keys, and flushes the
 * sessions this node holds. Calls reach every node's SessionAdmin through {@link ClusterFanOut}.
 */
public final class SessionAdmin {
    private SessionAdmin() {}

    public sealed interface Command extends ClusterMessage {}

    public record GetStats(ActorRef<SessionStats> replyTo) implements Command {}

    /** The live sessions this node holds whose ID starts with {@code prefix} (lower-case hex). */
    public record Lookup(String prefix, int limit, ActorRef<Found> replyTo) implements Command {}

    public record Found(List<SessionSummary> sessions) implements ClusterMessage {}

    public record Flush(ActorRef<SessionReplicator.Flushed> replyTo) implements Command {}

    public record GetTicketKeys(ActorRef<TicketKeys> replyTo) implements Command {}

    /**
     * The ticket-key generations this node has installed; never the keys. Generations are numbered from 1; a
     * generation's keys are [previous, current, next], so {@code current - 1} and {@code current + 1} are also held.
     *
     * @param previous        the generation still accepted for resumption, null before the second
     * @param previousAgeSeconds age of the previous generation, null if this node never had it current
     * @param next            the generation already accepted, which becomes current at the next rotation
     * @param installedAt     when this node installed the current generation (ISO-8601), null before the first
     * @param nextRotation    when the current generation is due for rotation (ISO-8601)
     */
    public record TicketKeys(String node, long current, long currentAgeSeconds, String createdAt, String installedAt,
                             Long previous, Long previousAgeSeconds, Long next, long rotationIntervalSeconds,
                             String nextRotation) implements ClusterMessage {}

    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "actortls-session-admin");

    /** @param self this node's cluster address as host:port */
    public static Behavior<Command> create(String self, SessionServices sessions,
                                           ActorRef<SessionReplicator.Command> replicator, TlsFrontend tls,
                                           Duration rotationInterval) {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
            return Behaviors.receive(Command.class)
                    .onMessage(GetStats.class, m -> {
                        m.replyTo().tell(sessions.stats(self));
                        return Behaviors.same();
                    })
                    .onMessage(Lookup.class, m -> {
                        m.replyTo().tell(new Found(sessions.mirror().find(m.prefix(), m.limit(), tls::virtualHostOfSession)));
                        return Behaviors.same();
                    })
                    .onMessage(Flush.class, m -> {
                        replicator.tell(new SessionReplicator.Flush(m.replyTo()));
                        return Behaviors.same();
                    })
                    .onMessage(GetTicketKeys.class, m -> {
                        m.replyTo().tell(ticketKeys(self, sessions.ticketKeyState(), rotationInterval));
                        return Behaviors.same();
                    })
                    .build();
        });
    }

    private static TicketKeys ticketKeys(String self, TicketKeyState state, Duration interval) {
        long now = System.currentTimeMillis();
        long generation = state.generation();
        if (generation == 0)
            return new TicketKeys(self, 0, 0, null, null, null, null, null, interval.toSeconds(), null);
        long previousCreated = state.previousCreatedAt();
        return new TicketKeys(self, generation, state.ageSeconds(), Instant.ofEpochMilli(state.createdAt()).toString(),
                Instant.ofEpochMilli(state.installedAt()).toString(), generation > 1 ? generation - 1 : null,
                generation > 1 && previousCreated > 0 ? (now - previousCreated) / 1000 : null, generation + 1,
                interval.toSeconds(), Instant.ofEpochMilli(state.createdAt() + interval.toMillis()).toString());
    }
}
