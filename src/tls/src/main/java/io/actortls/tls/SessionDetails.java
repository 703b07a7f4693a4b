package io.actortls.tls;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Public facts about a cached session's DER encoding, read by OpenSSL; the secrets in it stay inside. */
public final class SessionDetails {
    private SessionDetails() {}

    /** "TLSv1.3", "TLSv1.2", ..., or null if OpenSSL cannot decode the bytes. */
    public static String protocol(byte[] der) {
        if (der.length == 0) return null;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocateFrom(JAVA_BYTE, der);
            MemorySegment cursor = arena.allocate(ADDRESS);
            cursor.set(ADDRESS, 0, bytes);
            MemorySegment session = (MemorySegment) OpenSsl.d2i_SSL_SESSION.invokeExact(MemorySegment.NULL, cursor, (long) der.length);
            if (session.equals(MemorySegment.NULL)) {
                OpenSsl.clearErrors();
                return null;
            }
            int version = (int) OpenSsl.SSL_SESSION_get_protocol_version.invokeExact(session);
            OpenSsl.SSL_SESSION_free.invokeExact(session);
            bytes.fill((byte) 0); // our copy of the master secret
            return switch (version) {
                case TlsConstants.TLS1_3_VERSION -> "TLSv1.3";
                case TlsConstants.TLS1_2_VERSION -> "TLSv1.2";
                default -> "0x" + Integer.toHexString(version);
            };
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
    }
}
