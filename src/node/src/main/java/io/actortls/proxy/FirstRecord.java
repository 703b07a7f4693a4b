package io.actortls.proxy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Tells when a client's first TLS record (its ClientHello) has arrived whole, from its 5-byte header and the
 * bytes counted after it. OpenSSL sets up its handshake buffers (some 45 KiB) on its first handshake step, so
 * {@link ClientConnection} takes that step only then: a client that sends part of a ClientHello and stalls costs
 * the bytes it sent, waiting in the read BIO, not those buffers. Bytes that cannot start a TLS handshake record
 * (another content type, a length beyond TLS's) go to OpenSSL at once, which refuses them as before.
 */
final class FirstRecord {
    private static final int HEADER = 5;
    private static final int HANDSHAKE = 22;
    private static final int MAX_LENGTH = 16384 + 2048; // TLSCiphertext.length at most

    private int headerBytes;
    private int length;             // from header bytes 3 and 4
    private long bodyBytes;
    private boolean arrived;

    /** Counts {@code n} more bytes from the client at the start of {@code chunk}; true once the handshake may start. */
    boolean add(MemorySegment chunk, int n) {
        for (int i = 0; i < n && !arrived; i++) {
            if (headerBytes == HEADER) {
                bodyBytes += n - i;
                arrived = bodyBytes >= length;
                break;
            }
            int b = chunk.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            switch (headerBytes++) {
                case 0 -> arrived = b != HANDSHAKE;
                case 1 -> arrived = b != 3;  // SSL 3.0 / TLS 1.x record version
                case 3 -> length = b << 8;
                case 4 -> {
                    length |= b;
                    arrived = length == 0 || length > MAX_LENGTH;
                }
                default -> { }
            }
        }
        return arrived;
    }

    boolean arrived() {
        return arrived;
    }
}
