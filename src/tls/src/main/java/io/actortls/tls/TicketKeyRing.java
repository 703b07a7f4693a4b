package io.actortls.tls;

import java.util.Arrays;
import java.util.List;

/**
 * The session-ticket keys a {@link TlsFrontend} encrypts and decrypts tickets with: [previous, current, next].
 * The current key encrypts; all three decrypt, so nodes that install a rotation at slightly different moments
 * still accept each other's tickets. Replaced as a whole by {@link #install}; read by OpenSSL's ticket callback
 * on handshake threads.
 */
public final class TicketKeyRing {
    /** One ticket key: a 16-byte name sent in the clear inside the ticket, a 32-byte HMAC-SHA256 key and a 32-byte AES-256 key. */
    public record TicketKey(byte[] name, byte[] hmacKey, byte[] aesKey) {
        public TicketKey {
            if (name.length != 16 || hmacKey.length != 32 || aesKey.length != 32)
                throw new IllegalArgumentException("a ticket key is a 16-byte name, a 32-byte HMAC key and a 32-byte AES key");
        }

        @Override
        public String toString() {
            return "TicketKey[name=" + java.util.HexFormat.of().formatHex(name) + "]"; // never the key bytes
        }
    }

    private record Keys(TicketKey current, List<TicketKey> all) {}

    private volatile Keys keys;

    /** Installs a new generation. {@code previous} and {@code next} may be null. */
    public void install(TicketKey previous, TicketKey current, TicketKey next) {
        keys = new Keys(current, java.util.stream.Stream.of(previous, current, next).filter(java.util.Objects::nonNull).toList());
    }

    /** The key that encrypts new tickets, or null before the first {@link #install}. */
    TicketKey current() {
        Keys k = keys;
        return k == null ? null : k.current();
    }

    /** The key with this name, if it is still one of the three. */
    TicketKey find(byte[] name) {
        Keys k = keys;
        if (k == null) return null;
        for (TicketKey key : k.all()) if (Arrays.equals(key.name(), name)) return key;
        return null;
    }
}
