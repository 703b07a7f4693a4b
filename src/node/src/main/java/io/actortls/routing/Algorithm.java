package io.actortls.routing;

import java.util.Arrays;
import java.util.Optional;

/** How a pool chooses a server for a new connection; the labels are those of pekko.hocon and the CLI. */
public enum Algorithm {
    ROUND_ROBIN("roundrobin"),
    LEAST_CONNECTIONS("leastconn"),
    SOURCE_HASH("source");

    private final String label;

    Algorithm(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static Optional<Algorithm> fromLabel(String label) {
        return Arrays.stream(values()).filter(a -> a.label.equals(label)).findFirst();
    }

    /** A fresh balancer: round robin keeps state per pool, the others decide from what they are given. */
    public Balancer newBalancer() {
        return switch (this) {
            case ROUND_ROBIN -> new SmoothWeightedRoundRobin();
            case LEAST_CONNECTIONS -> new WeightedLeastConnections();
            case SOURCE_HASH -> new SourceHash();
        };
    }
}
