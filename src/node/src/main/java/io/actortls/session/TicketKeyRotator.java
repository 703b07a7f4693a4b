package io.actortls.session;

import io.actortls.node.ClusterMessage;
import java.security.SecureRandom;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ddata.LWWRegister;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * Rotates the cluster's ticket keys, as a cluster singleton: exactly one instance runs, on the oldest node.
 * The schedule comes from the stored generation's creation time, not from when this instance started, so a
 * hand-over to another node neither rotates early nor twice; and a rotation applies only if the stored
 * generation is still due, so two overlapping instances cannot rotate twice either.
 */
public final class TicketKeyRotator {
    private TicketKeyRotator() {}

    public sealed interface Command {}

    /**
     * Rotates now, whatever the schedule (from the management API, on any node: it crosses to the singleton).
     * The answer comes once the new generation is written to a majority of nodes.
     */
    public record RotateNow(ActorRef<Rotated> replyTo) implements Command, ClusterMessage {}

    /** @param generation the generation now current, 0 with {@code error} if the write did not reach a majority */
    public record Rotated(long generation, String error) implements ClusterMessage {}

    private enum Rotate implements Command { INSTANCE }
    private enum Check implements Command { INSTANCE }
    private record Read(Replicator.GetResponse<LWWRegister<TicketKeyGeneration>> response) implements Command {}
    private record Written(Replicator.UpdateResponse<LWWRegister<TicketKeyGeneration>> response) implements Command {}
    private record ForcedWritten(Replicator.UpdateResponse<LWWRegister<TicketKeyGeneration>> response,
                                 ActorRef<Rotated> replyTo) implements Command {}
    private record ForcedRead(Replicator.GetResponse<LWWRegister<TicketKeyGeneration>> response,
                              ActorRef<Rotated> replyTo) implements Command {}

    private static final Duration CONSISTENCY_TIMEOUT = Duration.ofSeconds(5);

    public static Behavior<Command> create(Duration interval) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
                DistributedData.<Command, LWWRegister<TicketKeyGeneration>>withReplicatorMessageAdapter(replicator ->
                        new Rotator(ctx, timers, replicator, interval).start())));
    }

    private static final class Rotator {
        private final ActorContext<Command> ctx;
        private final TimerScheduler<Command> timers;
        private final ReplicatorMessageAdapter<Command, LWWRegister<TicketKeyGeneration>> replicator;
        private final Duration interval;
        private final SelfUniqueAddress self;
        private final SecureRandom random = new SecureRandom();

        Rotator(ActorContext<Command> ctx, TimerScheduler<Command> timers,
                ReplicatorMessageAdapter<Command, LWWRegister<TicketKeyGeneration>> replicator, Duration interval) {
            this.ctx = ctx;
            this.timers = timers;
            this.replicator = replicator;
            this.interval = interval;
            this.self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
        }

        Behavior<Command> start() {
            ctx.getSelf().tell(Check.INSTANCE);
            return Behaviors.receive(Command.class)
                    .onMessage(Check.class, m -> {
                        replicator.askGet(replyTo -> new Replicator.Get<>(TicketKeyInstaller.KEY,
                                new Replicator.ReadMajority(CONSISTENCY_TIMEOUT), replyTo), Read::new);
                        return Behaviors.same();
                    })
                    .onMessage(Read.class, m -> {
                        TicketKeyGeneration stored = m.response() instanceof Replicator.GetSuccess<LWWRegister<TicketKeyGeneration>> ok
                                ? ok.get(TicketKeyInstaller.KEY).getValue() : null;
                        if (stored == null && !(m.response() instanceof Replicator.NotFound)) {
                            timers.startSingleTimer(Check.INSTANCE, Duration.ofSeconds(1)); // no majority yet
                        } else {
                            scheduleAfter(stored == null ? TicketKeyGeneration.NONE : stored);
                        }
                        return Behaviors.same();
                    })
                    .onMessage(Rotate.class, m -> {
                        long now = System.currentTimeMillis();
                        replicator.askUpdate(replyTo -> new Replicator.Update<>(TicketKeyInstaller.KEY,
                                LWWRegister.create(self, TicketKeyGeneration.NONE),
                                new Replicator.WriteMajority(CONSISTENCY_TIMEOUT), replyTo,
                                register -> isDue(register.getValue(), now)
                                        ? register.withValue(self, register.getValue().rotated(now, random))
                                        : register), Written::new);
                        return Behaviors.same();
                    })
                    .onMessage(RotateNow.class, m -> {
                        long now = System.currentTimeMillis();
                        ctx.getLog().info("rotating ticket keys on request");
                        replicator.askUpdate(replyTo -> new Replicator.Update<>(TicketKeyInstaller.KEY,
                                LWWRegister.create(self, TicketKeyGeneration.NONE),
                                new Replicator.WriteMajority(CONSISTENCY_TIMEOUT), replyTo,
                                register -> register.withValue(self, register.getValue().rotated(now, random))),
                                response -> new ForcedWritten(response, m.replyTo()));
                        return Behaviors.same();
                    })
                    .onMessage(ForcedWritten.class, m -> {
                        if (m.response() instanceof Replicator.UpdateSuccess<LWWRegister<TicketKeyGeneration>>) {
                            // The local replica holds what was written; its generation is the answer.
                            replicator.askGet(replyTo -> new Replicator.Get<>(TicketKeyInstaller.KEY,
                                    Replicator.readLocal(), replyTo), response -> new ForcedRead(response, m.replyTo()));
                        } else {
                            m.replyTo().tell(new Rotated(0, "the new ticket keys did not reach a majority of nodes within "
                                    + CONSISTENCY_TIMEOUT.toSeconds() + " s (they spread when the nodes can be reached)"));
                        }
                        timers.startSingleTimer(Check.INSTANCE, Duration.ofMillis(100)); // the schedule restarts from the new generation
                        return Behaviors.same();
                    })
                    .onMessage(ForcedRead.class, m -> {
                        m.replyTo().tell(m.response() instanceof Replicator.GetSuccess<LWWRegister<TicketKeyGeneration>> ok
                                ? new Rotated(ok.get(TicketKeyInstaller.KEY).getValue().generation(), null)
                                : new Rotated(0, "the new ticket keys were written but cannot be read back"));
                        return Behaviors.same();
                    })
                    .onMessage(Written.class, m -> {
                        // Success or not, the next step is decided from what is stored now.
                        timers.startSingleTimer(Check.INSTANCE, Duration.ofMillis(100));
                        return Behaviors.same();
                    })
                    .build();
        }

        private boolean isDue(TicketKeyGeneration stored, long now) {
            return stored.current() == null || stored.createdAt() + interval.toMillis() <= now;
        }

        private void scheduleAfter(TicketKeyGeneration stored) {
            long now = System.currentTimeMillis();
            if (isDue(stored, now)) {
                if (stored.generation() > 0)
                    ctx.getLog().info("rotating ticket keys: generation {} is {} s old", stored.generation(),
                            (now - stored.createdAt()) / 1000);
                ctx.getSelf().tell(Rotate.INSTANCE);
            } else {
                timers.startSingleTimer(Rotate.INSTANCE, Duration.ofMillis(stored.createdAt() + interval.toMillis() - now));
            }
        }
    }
}
