package io.actortls.session;

import io.actortls.node.ClusterMessage;
import io.actortls.tls.TicketKeyRing;
import java.security.SecureRandom;

/**
 * The cluster's ticket keys, held in one Distributed Data register: [previous, current, next] and the
 * generation they form. Key bytes live only in memory and on the cluster's TLS channel; {@link #toString()}
 * shows no key material.
 */
public record TicketKeyGeneration(long generation, long createdAt, Key previous, Key current, Key next)
        implements ClusterMessage {

    /** One key: 16-byte name, 32-byte HMAC-SHA256 key, 32-byte AES-256 key. */
    public record Key(byte[] name, byte[] hmacKey, byte[] aesKey) implements ClusterMessage {
        static Key random(SecureRandom random) {
            byte[] name = new byte[16];
            byte[] hmac = new byte[32];
            byte[] aes = new byte[32];
            random.nextBytes(name);
            random.nextBytes(hmac);
            random.nextBytes(aes);
            return new Key(name, hmac, aes);
        }

        TicketKeyRing.TicketKey toTicketKey() {
            return new TicketKeyRing.TicketKey(name, hmacKey, aesKey);
        }

        @Override
        public String toString() {
            return "Key[name=" + java.util.HexFormat.of().formatHex(name) + "]";
        }
    }

    /** Before the first rotation: no keys at all. */
    static final TicketKeyGeneration NONE = new TicketKeyGeneration(0, 0, null, null, null);

    /** The next generation: current becomes previous, next becomes current, and a new next is made. */
    TicketKeyGeneration rotated(long now, SecureRandom random) {
        if (current == null) return new TicketKeyGeneration(1, now, null, Key.random(random), Key.random(random));
        return new TicketKeyGeneration(generation + 1, now, current, next, Key.random(random));
    }

    /** Puts these keys into OpenSSL's ticket callback. */
    void installInto(TicketKeyRing ring) {
        if (current == null) return;
        ring.install(previous == null ? null : previous.toTicketKey(), current.toTicketKey(),
                next == null ? null : next.toTicketKey());
    }
}
