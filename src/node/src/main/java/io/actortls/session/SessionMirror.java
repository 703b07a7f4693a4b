package io.actortls.session;

import io.actortls.tls.SessionDetails;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This node's readable copy of the cluster session cache, split into the same buckets as the Distributed
 * Data keys. OpenSSL's lookup callback reads it synchronously on connection threads; only the
 * {@link SessionReplicator} and {@link ClusterSessionStore} write it.
 */
public final class SessionMirror {
    private final ConcurrentHashMap<String, SessionEntry>[] buckets;

    @SuppressWarnings("unchecked")
    public SessionMirror(int bucketCount) {
        buckets = new ConcurrentHashMap[bucketCount];
        for (int i = 0; i < bucketCount; i++) buckets[i] = new ConcurrentHashMap<>();
    }

    public int bucketCount() {
        return buckets.length;
    }

    /** The bucket of a session ID: the same on every node. */
    int bucketOf(String key) {
        return Math.floorMod(key.hashCode(), buckets.length);
    }

    static String key(byte[] sessionId) {
        return HexFormat.of().formatHex(sessionId);
    }

    SessionEntry get(String key) {
        return buckets[bucketOf(key)].get(key);
    }

    void put(String key, SessionEntry entry) {
        buckets[bucketOf(key)].put(key, entry);
    }

    /** @return the entry removed, or null */
    SessionEntry remove(String key) {
        return buckets[bucketOf(key)].remove(key);
    }

    Map<String, SessionEntry> bucket(int index) {
        return buckets[index];
    }

    /**
     * The live sessions whose ID (hex) starts with {@code hexPrefix}, oldest first, at most {@code limit}.
     *
     * @param vhostOf the vhost of a session ID context, or null
     */
    public List<SessionSummary> find(String hexPrefix, int limit, Function<byte[], String> vhostOf) {
        String prefix = hexPrefix.toLowerCase(Locale.ROOT);
        long now = System.currentTimeMillis() / 1000;
        List<Map.Entry<String, SessionEntry>> found = new ArrayList<>();
        for (ConcurrentHashMap<String, SessionEntry> bucket : buckets)
            for (Map.Entry<String, SessionEntry> e : bucket.entrySet())
                if (e.getKey().startsWith(prefix) && !e.getValue().isExpired(now)) found.add(e);
        found.sort(Comparator.comparingLong(e -> e.getValue().createdAt()));
        return found.stream().limit(limit).map(e -> {
            SessionEntry s = e.getValue();
            String protocol = SessionDetails.protocol(s.der());
            String kind = "TLSv1.3".equals(protocol) ? "tls1.3-stateful-ticket" : "tls1.2-session-id";
            return new SessionSummary(e.getKey(), vhostOf.apply(s.idContext()), protocol, kind,
                    Instant.ofEpochMilli(s.createdAt()).toString(), Instant.ofEpochSecond(s.expiresAt()).toString(), s.origin());
        }).toList();
    }

    public long size() {
        return Arrays.stream(buckets).mapToLong(ConcurrentHashMap::size).sum();
    }
}
