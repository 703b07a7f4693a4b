package io.actortls.routing;

import java.util.List;

/**
 * The server with the fewest open connections for its weight, counted across the cluster. Ties go to the
 * heavier server, then round robin among equals, so an idle pool still spreads its first connections.
 */
public final class WeightedLeastConnections implements Balancer {
    private int rotation;

    @Override
    public Candidate pick(List<Candidate> eligible, String clientIp) {
        int n = eligible.size();
        int start = Math.floorMod(rotation++, n);
        Candidate best = null;
        for (int i = 0; i < n; i++) {
            Candidate c = eligible.get((start + i) % n);
            if (best == null || better(c, best)) best = c;
        }
        return best;
    }

    /** Compares (active + 1) / weight: the load the server would carry with this connection. */
    private static boolean better(Candidate a, Candidate b) {
        double loadA = (a.active() + 1) / a.weight();
        double loadB = (b.active() + 1) / b.weight();
        if (loadA != loadB) return loadA < loadB;
        return a.weight() > b.weight();
    }
}
