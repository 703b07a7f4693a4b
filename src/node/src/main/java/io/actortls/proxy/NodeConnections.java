package io.actortls.proxy;

import io.actortls.node.ClusterMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One per node, registered under {@link #KEY}: tells the management API which client connections are open on
 * this node (the top N by age or bytes) and how this node's connections ended.
 *
 * <p>Nothing is collected ahead of time: a question asks the {@link Listener}s for their connection actors and
 * then each connection for its figures ({@link ClientConnection.Describe}), which the connection already keeps
 * for its close log line. The data path pays nothing; a question costs one message per open connection. The
 * actor itself holds no state beyond the listeners, so the answers are assembled in the asks' callbacks.
 */
public final class NodeConnections {
    private NodeConnections() {}

    public sealed interface Command extends ClusterMessage {}

    /** The {@code n} open connections first by {@code by}. */
    public record Top(int n, Order by, ActorRef<TopConnections> replyTo) implements Command {}

    /** Open, accepted and closed-by-reason counts, summed over this node's listeners. */
    public record GetCloses(ActorRef<Closes> replyTo) implements Command {}

    public enum Order {
        /** Oldest first. */
        AGE,
        /** Most bytes to and from the client first. */
        BYTES
    }

    /**
     * One open client connection.
     *
     * @param bytesIn  ciphertext from the client so far; bytesOut: ciphertext to it
     */
    public record OpenConnection(String listener, String client, String vhost, String pool, String server,
                                 long ageMillis, long bytesIn, long bytesOut, long backendBytesIn,
                                 long backendBytesOut) implements ClusterMessage {}

    /**
     * @param open       connections open on this node
     * @param top        the first {@code n} of those that answered, in the asked order
     * @param unanswered connections that did not answer in time (busy, or ended meanwhile)
     */
    public record TopConnections(int open, List<OpenConnection> top, int unanswered) implements ClusterMessage {}

    /** @param closed close reason label → count since the node started */
    public record Closes(int open, long accepted, Map<String, Long> closed) implements ClusterMessage {}

    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "actortls-node-connections");

    /** @param timeout how long each listener and each connection may take to answer */
    public static Behavior<Command> create(List<ActorRef<Listener.Command>> listeners, Duration timeout) {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
            ActorSystem<?> system = ctx.getSystem();
            return Behaviors.receive(Command.class)
                    .onMessage(Top.class, m -> {
                        top(system, listeners, m.n(), m.by(), timeout).thenAccept(m.replyTo()::tell);
                        return Behaviors.same();
                    })
                    .onMessage(GetCloses.class, m -> {
                        closes(system, listeners, timeout).thenAccept(m.replyTo()::tell);
                        return Behaviors.same();
                    })
                    .build();
        });
    }

    /** What one listener's connections said. */
    private record Survey(int open, int unanswered, List<OpenConnection> connections) {}

    private static CompletionStage<TopConnections> top(ActorSystem<?> system, List<ActorRef<Listener.Command>> listeners,
                                                       int n, Order by, Duration timeout) {
        List<CompletableFuture<Survey>> surveys = new ArrayList<>();
        for (ActorRef<Listener.Command> listener : listeners)
            surveys.add(AskPattern.<Listener.Command, Listener.Connections>ask(listener, Listener.ListConnections::new,
                            timeout, system.scheduler())
                    .thenCompose(connections -> survey(system, connections, timeout))
                    .exceptionally(noAnswer -> new Survey(0, 0, List.of())).toCompletableFuture());
        return CompletableFuture.allOf(surveys.toArray(CompletableFuture[]::new)).thenApply(done -> {
            int open = 0;
            int unanswered = 0;
            List<OpenConnection> all = new ArrayList<>();
            for (var survey : surveys) {
                Survey s = survey.join();
                open += s.open();
                unanswered += s.unanswered();
                all.addAll(s.connections());
            }
            all.sort(order(by));
            return new TopConnections(open, List.copyOf(all.subList(0, Math.min(n, all.size()))), unanswered);
        });
    }

    /** Asks each of one listener's connections; one that does not answer in time is counted, not waited for. */
    private static CompletionStage<Survey> survey(ActorSystem<?> system, Listener.Connections connections,
                                                  Duration timeout) {
        List<CompletableFuture<ClientConnection.Description>> asks = new ArrayList<>();
        for (ActorRef<ClientConnection.Command> c : connections.open())
            asks.add(AskPattern.<ClientConnection.Command, ClientConnection.Description>ask(c,
                    ClientConnection.Describe::new, timeout, system.scheduler())
                    .exceptionally(noAnswer -> null).toCompletableFuture());
        return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(done -> {
            int unanswered = 0;
            List<OpenConnection> answered = new ArrayList<>();
            for (var ask : asks) {
                ClientConnection.Description d = ask.join();
                if (d == null) unanswered++;
                else if (!d.closing())
                    answered.add(new OpenConnection(connections.listener(), d.client(), d.vhost(), d.pool(), d.server(),
                            d.ageMillis(), d.bytesIn(), d.bytesOut(), d.backendBytesIn(), d.backendBytesOut()));
            }
            return new Survey(connections.open().size(), unanswered, answered);
        });
    }

    /** The order of {@code by}, ties broken by age (oldest first). */
    public static Comparator<OpenConnection> order(Order by) {
        Comparator<OpenConnection> oldestFirst = Comparator.comparingLong(OpenConnection::ageMillis).reversed();
        return by == Order.AGE ? oldestFirst
                : Comparator.comparingLong((OpenConnection c) -> c.bytesIn() + c.bytesOut()).reversed().thenComparing(oldestFirst);
    }

    private static CompletionStage<Closes> closes(ActorSystem<?> system, List<ActorRef<Listener.Command>> listeners,
                                                  Duration timeout) {
        List<CompletableFuture<Listener.Stats>> asks = new ArrayList<>();
        for (ActorRef<Listener.Command> listener : listeners)
            asks.add(AskPattern.<Listener.Command, Listener.Stats>ask(listener, Listener.GetStats::new, timeout,
                    system.scheduler()).toCompletableFuture());
        return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(done -> {
            int open = 0;
            long accepted = 0;
            Map<CloseReason, Long> closed = new EnumMap<>(CloseReason.class);
            for (var ask : asks) {
                Listener.Stats s = ask.join();
                open += s.open();
                accepted += s.accepted();
                s.closed().forEach((reason, count) -> closed.merge(reason, count, Long::sum));
            }
            Map<String, Long> labelled = new TreeMap<>();
            closed.forEach((reason, count) -> labelled.put(reason.label(), count));
            return new Closes(open, accepted, labelled);
        });
    }
}
