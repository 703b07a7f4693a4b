package io.actortls.routing;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * nginx's smooth weighted round-robin: every pick adds each server's weight to its running score, takes the
 * highest (the first on a tie), and subtracts the total from the winner. Weights 1/2/3 give C B A C B C: exact shares, interleaved,
 * and deterministic, which the cluster needs because one entity decides for every node.
 */
public final class SmoothWeightedRoundRobin implements Balancer {
    private final Map<String, Double> score = new HashMap<>();

    @Override
    public Candidate pick(List<Candidate> eligible, String clientIp) {
        double total = 0;
        Candidate best = null;
        double bestScore = 0;
        for (Candidate c : eligible) {
            double s = score.merge(c.name(), c.weight(), Double::sum);
            total += c.weight();
            if (best == null || s > bestScore) {
                best = c;
                bestScore = s;
            }
        }
        score.put(best.name(), bestScore - total);
        // Servers that are not eligible (down, full) keep no score: they start level when they return.
        if (score.size() > eligible.size()) score.keySet().retainAll(eligible.stream().map(Candidate::name).toList());
        return best;
    }
}
