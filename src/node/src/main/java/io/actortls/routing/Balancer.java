package io.actortls.routing;

import java.util.List;

/** Chooses one server among those that may take a new connection now. */
public sealed interface Balancer permits SmoothWeightedRoundRobin, WeightedLeastConnections, SourceHash {

    /**
     * A server as the balancer sees it at this moment.
     *
     * @param weight its effective weight (configured weight, scaled down during slow start); positive
     * @param active its open connections across the cluster
     */
    record Candidate(String name, double weight, int active) {}

    /**
     * @param eligible not empty: servers that are up, enabled and below their max-connections
     * @param clientIp the client's address, for balancers that keep a client on one server
     * @return one of {@code eligible}
     */
    Candidate pick(List<Candidate> eligible, String clientIp);
}
