package io.actortls.session;

import java.util.Arrays;
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

    public long size() {
        return Arrays.stream(buckets).mapToLong(ConcurrentHashMap::size).sum();
    }
}
