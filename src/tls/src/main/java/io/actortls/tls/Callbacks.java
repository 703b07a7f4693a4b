package io.actortls.tls;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The C function pointers handed to OpenSSL. There is one stub per callback kind for the whole process, in
 * the global arena, so no stub can be freed while an SSL_CTX still points at it; the {@code arg} pointer
 * selects the Java target. An exception escaping an upcall kills the JVM, so each entry catches everything
 * and answers OpenSSL with the callback's failure value.
 */
final class Callbacks {
    private Callbacks() {}

    private static final Logger log = LoggerFactory.getLogger(Callbacks.class);

    /** {@code int (*)(SSL *s, int *al, void *arg)} */
    static final MemorySegment CLIENT_HELLO = upcall("clientHello",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));

    /** {@code int (*)(SSL*, const unsigned char **out, unsigned char *outlen, const unsigned char *in, unsigned inlen, void *arg)} */
    static final MemorySegment ALPN_SELECT = upcall("alpnSelect",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));

    /** {@code int (*)(SSL *ssl, SSL_SESSION *sess)}: a new session to cache. */
    static final MemorySegment NEW_SESSION = upcall("newSession", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));

    /** {@code SSL_SESSION *(*)(SSL *ssl, const unsigned char *id, int len, int *copy)}: look a session up. */
    static final MemorySegment GET_SESSION = upcall("getSession",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));

    /** {@code void (*)(SSL_CTX *ctx, SSL_SESSION *sess)}: a session became unusable. */
    static final MemorySegment REMOVE_SESSION = upcall("removeSession", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));

    /** {@code int (*)(SSL*, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX*, EVP_MAC_CTX*, int enc)} */
    static final MemorySegment TICKET_KEY = upcall("ticketKey",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));

    private static int newSession(MemorySegment ssl, MemorySegment session) {
        try {
            TlsConnection connection = TlsConnection.current();
            if (connection != null) connection.frontend().onNewSession(connection, session);
        } catch (Throwable t) {
            log.error("new-session callback failed; the session is not cached", t);
        }
        return 0; // we keep no reference: OpenSSL frees the session when it is done with it
    }

    private static MemorySegment getSession(MemorySegment ssl, MemorySegment id, int length, MemorySegment copy) {
        try {
            copy.reinterpret(JAVA_INT.byteSize()).set(JAVA_INT, 0, 0); // the returned reference is OpenSSL's to free
            TlsConnection connection = TlsConnection.current();
            if (connection == null) return MemorySegment.NULL;
            return connection.frontend().onGetSession(connection, id.reinterpret(length).toArray(JAVA_BYTE));
        } catch (Throwable t) {
            log.error("get-session callback failed; continuing with a full handshake", t);
            return MemorySegment.NULL;
        }
    }

    private static void removeSession(MemorySegment ctx, MemorySegment session) {
        try {
            TlsFrontend frontend = TlsFrontend.byFrontContext(ctx);
            if (frontend != null) frontend.onRemoveSession(session);
        } catch (Throwable t) {
            log.error("remove-session callback failed", t);
        }
    }

    private static int ticketKey(MemorySegment ssl, MemorySegment name, MemorySegment iv, MemorySegment cipherCtx,
                                 MemorySegment macCtx, int encrypt) {
        try {
            TlsConnection connection = TlsConnection.current();
            if (connection == null) return 0;
            return connection.frontend().onTicketKey(ssl, name.reinterpret(16), iv.reinterpret(TlsConstants.EVP_MAX_IV_LENGTH),
                    cipherCtx, macCtx, encrypt == 1);
        } catch (Throwable t) {
            log.error("ticket-key callback failed; no ticket for this connection", t);
            return 0; // encrypt: no ticket; decrypt: treated as an unknown key, i.e. a full handshake
        }
    }

    private static int clientHello(MemorySegment ssl, MemorySegment alert, MemorySegment arg) {
        try {
            TlsFrontend frontend = CallbackTargets.lookup(arg.address(), TlsFrontend.class);
            if (frontend == null) return refuse(alert, TlsConstants.SSL_AD_INTERNAL_ERROR);
            return frontend.onClientHello(ssl, alert.reinterpret(JAVA_INT.byteSize()));
        } catch (Throwable t) {
            log.error("ClientHello callback failed; refusing the handshake", t);
            return refuse(alert, TlsConstants.SSL_AD_INTERNAL_ERROR);
        }
    }

    private static int alpnSelect(MemorySegment ssl, MemorySegment out, MemorySegment outLength,
                                  MemorySegment clientList, int clientListLength, MemorySegment arg) {
        try {
            VirtualHostContext vhost = CallbackTargets.lookup(arg.address(), VirtualHostContext.class);
            if (vhost == null) return TlsConstants.SSL_TLSEXT_ERR_NOACK;
            MemorySegment offered = clientList.reinterpret(Integer.toUnsignedLong(clientListLength));
            long chosen = vhost.chooseProtocol(offered);
            if (chosen < 0) return TlsConstants.SSL_TLSEXT_ERR_NOACK;
            // *out must stay valid after we return: point into the client's list, which OpenSSL owns.
            out.reinterpret(ADDRESS.byteSize()).set(ADDRESS, 0, offered.asSlice(chosen + 1, 0));
            outLength.reinterpret(1).set(JAVA_BYTE, 0, offered.get(JAVA_BYTE, chosen));
            return TlsConstants.SSL_TLSEXT_ERR_OK;
        } catch (Throwable t) {
            log.error("ALPN callback failed; continuing without ALPN", t);
            return TlsConstants.SSL_TLSEXT_ERR_NOACK;
        }
    }

    private static int refuse(MemorySegment alert, int alertCode) {
        try {
            alert.reinterpret(JAVA_INT.byteSize()).set(JAVA_INT, 0, alertCode);
        } catch (Throwable ignored) {
            // Nothing more can be done from inside a callback.
        }
        return TlsConstants.SSL_CLIENT_HELLO_ERROR;
    }

    private static MemorySegment upcall(String method, FunctionDescriptor descriptor) {
        try {
            MethodType type = descriptor.toMethodType();
            var handle = MethodHandles.lookup().findStatic(Callbacks.class, method, type);
            return OpenSsl.LINKER.upcallStub(handle, descriptor, Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
