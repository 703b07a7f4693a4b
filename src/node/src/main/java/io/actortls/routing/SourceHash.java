package io.actortls.routing;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Client-IP affinity by weighted rendezvous hashing: each (client, server) pair gets a score from a hash, scaled
 * by the server's weight, and the highest score wins. A client keeps its server while that server stays
 * eligible; when a server leaves, only the clients whose best score was on it move, each to its next best.
 */
public final class SourceHash implements Balancer {

    @Override
    public Candidate pick(List<Candidate> eligible, String clientIp) {
        Candidate best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (Candidate c : eligible) {
            double score = score(clientIp, c);
            if (score > bestScore) {
                best = c;
                bestScore = score;
            }
        }
        return best;
    }

    /** -weight / ln(u), u uniform in (0, 1) from the hash: the weighted rendezvous score (Schindelhauer & Schomaker). */
    static double score(String clientIp, Candidate server) {
        long h = mix(fnv1a(clientIp) * 31 + fnv1a(server.name()));
        double u = ((h >>> 11) + 0.5) / (double) (1L << 53);
        return -server.weight() / Math.log(u);
    }

    private static long fnv1a(String text) {
        long h = 0xcbf29ce484222325L;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            h ^= b;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** SplitMix64's finalizer: spreads neighbouring inputs (127.0.0.2, 127.0.0.3) over the whole range. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
