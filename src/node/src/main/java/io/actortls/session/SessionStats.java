package io.actortls.session;

import io.actortls.node.ClusterMessage;

/**
 * Session-cache statistics of one node, or summed over the cluster ({@code node = "cluster"}).
 *
 * @param cached         sessions held in this node's mirror (cluster-wide: the largest mirror)
 * @param hits           lookups answered from the mirror
 * @param misses         lookups that found nothing (after any fetch)
 * @param remoteHits     lookups answered with a session created on another node
 * @param resumedRemote  handshakes that resumed a session created on another node
 * @param fetchHits      sessions fetched from another node while a handshake waited
 * @param fetchMisses    fetches every other node answered with "not held"
 * @param fetchTimeouts  fetches that ran out of time
 * @param ticketKeyGeneration the ticket-key generation installed, 0 before the first
 * @param ticketKeyAgeSeconds  seconds since that generation was made
 */
public record SessionStats(String node, long cached, long stored, long hits, long misses, long remoteHits,
                           long resumedRemote, long fetchHits, long fetchMisses, long fetchTimeouts, long evictions,
                           long expiries, long removals, long ticketKeyGeneration, long ticketKeyAgeSeconds)
        implements ClusterMessage {

    public static SessionStats sum(String node, Iterable<SessionStats> all) {
        long cached = 0, stored = 0, hits = 0, misses = 0, remoteHits = 0, resumedRemote = 0, fetchHits = 0,
                fetchMisses = 0, fetchTimeouts = 0, evictions = 0, expiries = 0, removals = 0, generation = 0, age = 0;
        for (SessionStats s : all) {
            cached = Math.max(cached, s.cached);
            stored += s.stored;
            hits += s.hits;
            misses += s.misses;
            remoteHits += s.remoteHits;
            resumedRemote += s.resumedRemote;
            fetchHits += s.fetchHits;
            fetchMisses += s.fetchMisses;
            fetchTimeouts += s.fetchTimeouts;
            evictions += s.evictions;
            expiries += s.expiries;
            removals += s.removals;
            generation = Math.max(generation, s.ticketKeyGeneration);
            age = s.ticketKeyGeneration == generation ? s.ticketKeyAgeSeconds : age;
        }
        return new SessionStats(node, cached, stored, hits, misses, remoteHits, resumedRemote, fetchHits, fetchMisses,
                fetchTimeouts, evictions, expiries, removals, generation, age);
    }
}
