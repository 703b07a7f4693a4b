package io.actortls.routing;

import io.actortls.node.ClusterMessage;
import java.util.List;
import java.util.Optional;

/** A pool at one moment, as its entity sees it. */
public record PoolView(String pool, Algorithm algorithm, List<ServerView> servers, int waiting,
                       String entityNode) implements ClusterMessage {

    public Optional<ServerView> server(String name) {
        return servers.stream().filter(s -> s.spec().name().equals(name)).findFirst();
    }
}
