package io.actortls.admin;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.parameter;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.Leave;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.cluster.typed.Unsubscribe;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.typed.javadsl.ActorSource;
import org.apache.pekko.util.ByteString;

/**
 * Cluster membership: show (members, leader, oldest, unreachable), join, leave, down, down-unreachable, and a
 * stream of membership events (one JSON object per line). Addresses are given as host:port or in full
 * ({@code pekko://actortls@host:port}).
 */
final class ClusterRoutes {
    private ClusterRoutes() {}

    /** One member as the API shows it. */
    record MemberView(String address, String node, String status, List<String> roles, boolean reachable,
                      boolean leader, boolean oldest) {}

    record ClusterView(String self, String leader, String oldest, List<MemberView> members, List<String> unreachable) {}

    record Accepted(String message) {}

    record MembershipEvent(String time, String event, String address, String node, String status) {}

    static Route create(ActorSystem<?> system, AdminServices.NodeHandles handles) {
        Cluster cluster = Cluster.get(system);
        return pathPrefix("cluster", () -> concat(
                pathEndOrSingleSlash(() -> get(() -> complete(Json.ok(view(cluster))))),
                path("join", () -> post(() -> parameter("address", text -> withAddress(text, address -> {
                    cluster.manager().tell(Join.create(address));
                    return accepted("joining " + address);
                })))),
                path("leave", () -> post(() -> parameterOptional("address", text -> withAddress(
                        text.orElse(cluster.selfMember().address().toString()), address -> {
                            if (notMember(cluster, address)) return notFound(address);
                            cluster.manager().tell(Leave.create(address));
                            return accepted(address + " is leaving");
                        })))),
                path("down", () -> post(() -> parameter("address", text -> withAddress(text, address -> {
                    if (notMember(cluster, address)) return notFound(address);
                    cluster.manager().tell(new Down(address));
                    return accepted(address + " is marked down");
                })))),
                path("down-unreachable", () -> post(() -> {
                    List<String> downed = new ArrayList<>();
                    for (Member m : cluster.state().getUnreachable()) {
                        cluster.manager().tell(new Down(m.address()));
                        downed.add(m.address().toString());
                    }
                    return complete(Json.ok(Map.of("downed", downed)));
                })),
                path("events", () -> get(() -> complete(events(cluster))))));
    }

    static ClusterView view(Cluster cluster) {
        var state = cluster.state();
        Address self = cluster.selfMember().address();
        Address leader = state.getLeader();
        List<Member> members = StreamSupport.stream(state.getMembers().spliterator(), false).toList();
        Optional<Member> oldest = members.stream()
                .filter(m -> m.status().toString().equals("Up") || m.status().toString().equals("Leaving"))
                .reduce((a, b) -> a.isOlderThan(b) ? a : b);
        var unreachable = state.getUnreachable();
        List<MemberView> views = members.stream().map(m -> new MemberView(m.address().toString(),
                ClusterFanOut.hostPort(m.address()), m.status().toString(), m.getRoles().stream().sorted().toList(),
                !unreachable.contains(m), m.address().equals(leader), oldest.map(o -> o.equals(m)).orElse(false))).toList();
        return new ClusterView(self.toString(), leader == null ? null : leader.toString(),
                oldest.map(m -> m.address().toString()).orElse(null), views,
                unreachable.stream().map(m -> m.address().toString()).sorted().toList());
    }

    /** Membership events as they happen, starting with the current members; ends when the caller disconnects. */
    private static HttpResponse events(Cluster cluster) {
        var source = ActorSource.<Object>actorRef(m -> false, m -> Optional.empty(), 256, OverflowStrategy.dropHead())
                .mapMaterializedValue(ref -> {
                    cluster.subscriptions().tell(Subscribe.create(ref.narrow(), ClusterEvent.MemberEvent.class));
                    cluster.subscriptions().tell(Subscribe.create(ref.narrow(), ClusterEvent.ReachabilityEvent.class));
                    return ref;
                })
                .watchTermination((ref, done) -> {
                    done.whenComplete((ok, failure) -> cluster.subscriptions().tell(new Unsubscribe<>(ref)));
                    return ref;
                })
                .map(ClusterRoutes::eventLine);
        return HttpResponse.create().withEntity(HttpEntities.createChunked(ContentTypes.APPLICATION_JSON, source));
    }

    private static ByteString eventLine(Object event) {
        Member member = switch (event) {
            case ClusterEvent.MemberEvent e -> e.member();
            case ClusterEvent.ReachabilityEvent e -> e.member();
            default -> throw new IllegalArgumentException(event.toString());
        };
        return ByteString.fromString(Json.write(new MembershipEvent(Instant.now().toString(),
                event.getClass().getSimpleName(), member.address().toString(), ClusterFanOut.hostPort(member.address()),
                member.status().toString())) + "\n");
    }

    private static boolean notMember(Cluster cluster, Address address) {
        return StreamSupport.stream(cluster.state().getMembers().spliterator(), false)
                .noneMatch(m -> m.address().equals(address));
    }

    private static Route withAddress(String text, java.util.function.Function<Address, Route> inner) {
        String full = text.contains("://") ? text : io.actortls.node.NodeConfig.clusterAddress(text);
        Address address;
        try {
            address = AddressFromURIString.parse(full);
        } catch (RuntimeException e) {
            return complete(Json.refused(StatusCodes.BAD_REQUEST, "not a cluster address: " + text));
        }
        if (address.host().isEmpty() || address.port().isEmpty())
            return complete(Json.refused(StatusCodes.BAD_REQUEST, "not a cluster address: " + text));
        return inner.apply(address);
    }

    private static Route notFound(Address address) {
        return complete(Json.refused(StatusCodes.NOT_FOUND, address + " is not a member of this cluster"));
    }

    private static Route accepted(String message) {
        return complete(Json.response(StatusCodes.ACCEPTED, new Accepted(message)));
    }
}
