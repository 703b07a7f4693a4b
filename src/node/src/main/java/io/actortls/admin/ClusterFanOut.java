package io.actortls.admin;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Asks every node's {@link NodeAdmin} the same question and collects one answer per member that is up: a node
 * that does not answer in time (or has not registered yet) is reported by name with the reason, never dropped.
 */
public final class ClusterFanOut {
    private ClusterFanOut() {}

    /** One node's answer, or why there is none ({@code reply} null, {@code error} set). */
    public record NodeReply<T>(String node, T reply, String error) {
        public boolean answered() {
            return error == null;
        }
    }

    /** Asks every node's {@link NodeAdmin}. */
    public static <T> CompletionStage<List<NodeReply<T>>> askAll(ActorSystem<?> system,
                                                                 Function<ActorRef<T>, NodeAdmin.Command> question,
                                                                 Duration timeout) {
        return askAll(system, NodeAdmin.KEY, question, timeout);
    }

    /** Asks every node's actor registered under {@code key} (one per node). */
    public static <C, T> CompletionStage<List<NodeReply<T>>> askAll(ActorSystem<?> system, ServiceKey<C> key,
                                                                    Function<ActorRef<T>, C> question, Duration timeout) {
        Cluster cluster = Cluster.get(system);
        Address self = cluster.selfMember().address();
        Set<String> expected = new TreeSet<>();
        for (var member : cluster.state().getMembers())
            if (member.status() == MemberStatus.up() || member.status() == MemberStatus.weaklyUp()
                    || member.address().equals(self))
                expected.add(hostPort(member.address()));
        CompletionStage<Receptionist.Listing> listing = AskPattern.ask(system.receptionist(),
                replyTo -> Receptionist.find(key, replyTo), timeout, system.scheduler());
        return listing.thenCompose(l -> {
            List<CompletableFuture<NodeReply<T>>> asks = new ArrayList<>();
            for (ActorRef<C> admin : l.getServiceInstances(key)) {
                Address address = admin.path().address();
                String node = hostPort(address.hasGlobalScope() ? address : self);
                expected.remove(node);
                asks.add(AskPattern.<C, T>ask(admin, question::apply, timeout, system.scheduler())
                        .handle((reply, failure) -> failure == null ? new NodeReply<>(node, reply, null)
                                : new NodeReply<T>(node, null, "no answer within " + timeout.toMillis() + " ms"))
                        .toCompletableFuture());
            }
            for (String missing : expected)
                asks.add(CompletableFuture.completedFuture(new NodeReply<>(missing, null, "not registered yet")));
            return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(done -> asks.stream()
                    .map(CompletableFuture::join).sorted(Comparator.comparing(NodeReply::node)).toList());
        });
    }

    public static String hostPort(Address address) {
        return address.host().get() + ":" + address.port().get();
    }
}
