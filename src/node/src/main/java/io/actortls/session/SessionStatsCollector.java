package io.actortls.session;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** Asks every node's {@link SessionReplicator} for its statistics and replies with those that answered in time. */
final class SessionStatsCollector {
    private SessionStatsCollector() {}

    sealed interface Event {}
    private record Answer(SessionStats stats) implements Event {}
    private enum Timeout implements Event { INSTANCE }

    static Behavior<Event> create(Set<ActorRef<SessionReplicator.Command>> nodes, ActorRef<List<SessionStats>> replyTo,
                                  Duration timeout) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            var adapter = ctx.messageAdapter(SessionStats.class, Answer::new);
            nodes.forEach(node -> node.tell(new SessionReplicator.PeerStatsQuery(adapter)));
            timers.startSingleTimer(Timeout.INSTANCE, timeout);
            List<SessionStats> answers = new ArrayList<>();
            return Behaviors.receive(Event.class)
                    .onMessage(Answer.class, a -> {
                        answers.add(a.stats());
                        if (answers.size() < nodes.size()) return Behaviors.same();
                        replyTo.tell(List.copyOf(answers));
                        return Behaviors.stopped();
                    })
                    .onMessage(Timeout.class, t -> {
                        replyTo.tell(List.copyOf(answers));
                        return Behaviors.stopped();
                    })
                    .build();
        }));
    }
}
