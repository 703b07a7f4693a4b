package io.actortls.tls;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One server-side TLS connection over two memory BIOs: ciphertext from the client goes in with
 * {@link #receive}, plaintext comes out of {@link #readPlaintext}; plaintext for the client goes in with
 * {@link #writePlaintext} and ciphertext comes out of {@link #takeOutput}. No sockets here: the caller moves
 * the bytes, and because a memory BIO never pushes back, the caller also decides when to stop.
 *
 * <p>Owns its SSL (and through SSL_set_bio both BIOs): {@link #close} frees all three, once. Not thread-safe:
 * one actor uses it at a time.
 */
public final class TlsConnection implements AutoCloseable {
    private static final AtomicLong LIVE = new AtomicLong();
    /** The connection whose OpenSSL call is running on this thread: callbacks find their connection here. */
    private static final ThreadLocal<TlsConnection> CURRENT = new ThreadLocal<>();

    private final TlsFrontend frontend;
    private final MemorySegment ssl;
    private final MemorySegment readBio;
    private final MemorySegment writeBio;
    private boolean handshakeDone;
    private boolean closeNotifyReceived;
    private boolean closeNotifySent;
    private boolean failed;
    private boolean closed;
    private VirtualHostContext vhost;        // chosen by the ClientHello callback
    private byte[] wantedSessionId;          // set when the ClientHello callback paused for a session fetch
    private boolean sessionFetchCompleted;
    private boolean offeredSessionIsRemote;  // the cached session handed to OpenSSL came from another node

    TlsConnection(TlsFrontend frontend, MemorySegment frontCtx) {
        this.frontend = frontend;
        OpenSsl.clearErrors();
        try {
            ssl = (MemorySegment) OpenSsl.SSL_new.invokeExact(frontCtx);
            if (ssl.equals(MemorySegment.NULL)) throw OpenSsl.failure("SSL_new");
            MemorySegment method = (MemorySegment) OpenSsl.BIO_s_mem.invokeExact();
            readBio = (MemorySegment) OpenSsl.BIO_new.invokeExact(method);
            writeBio = (MemorySegment) OpenSsl.BIO_new.invokeExact(method);
            if (readBio.equals(MemorySegment.NULL) || writeBio.equals(MemorySegment.NULL)) {
                freeBio(readBio);
                freeBio(writeBio);
                OpenSsl.SSL_free.invokeExact(ssl);
                throw OpenSsl.failure("BIO_new");
            }
            OpenSsl.SSL_set_bio.invokeExact(ssl, readBio, writeBio); // the SSL now owns both BIOs
            OpenSsl.SSL_set_accept_state.invokeExact(ssl);
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
        LIVE.incrementAndGet();
    }

    /** Connections created and not yet closed, process-wide: a leak shows up here first. */
    public static long liveCount() {
        return LIVE.get();
    }

    /** Hands ciphertext received from the client to OpenSSL (native or heap memory). */
    public void receive(MemorySegment ciphertext) {
        ensureOpen();
        long length = ciphertext.byteSize();
        try {
            long done = 0;
            while (done < length) {
                int n = (int) OpenSsl.BIO_write.invokeExact(readBio, ciphertext.asSlice(done), (int) (length - done));
                if (n <= 0) throw OpenSsl.failure("BIO_write");
                done += n;
            }
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
    }

    /**
     * Advances the handshake with the ciphertext received so far.
     *
     * @throws OpenSslException when the handshake fails (bad input, no shared cipher, rejected name, ...)
     */
    public HandshakeProgress handshake() {
        ensureOpen();
        if (handshakeDone) return HandshakeProgress.DONE;
        CURRENT.set(this);
        try {
            OpenSsl.clearErrors();
            int result = (int) OpenSsl.SSL_do_handshake.invokeExact(ssl);
            if (result == 1) {
                handshakeDone = true;
                return HandshakeProgress.DONE;
            }
            int error = (int) OpenSsl.SSL_get_error.invokeExact(ssl, result);
            if (error == TlsConstants.SSL_ERROR_WANT_READ) return HandshakeProgress.NEEDS_INPUT;
            if (error == TlsConstants.SSL_ERROR_WANT_CLIENT_HELLO_CB) return HandshakeProgress.NEEDS_SESSION;
            failed = true;
            throw OpenSsl.failure("TLS handshake");
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        } finally {
            CURRENT.remove();
        }
    }

    /** The session ID to fetch after {@link HandshakeProgress#NEEDS_SESSION}. */
    public byte[] wantedSessionId() {
        return wantedSessionId == null ? null : wantedSessionId.clone();
    }

    /** The fetch is over (found or not): the next {@link #handshake()} will not pause for it again. */
    public void finishSessionFetch() {
        sessionFetchCompleted = true;
    }

    /** Resumed with a cached session that another node created. */
    public boolean resumedFromAnotherNode() {
        return offeredSessionIsRemote && resumed();
    }

    static TlsConnection current() {
        return CURRENT.get();
    }

    TlsFrontend frontend() {
        return frontend;
    }

    VirtualHostContext selectedVirtualHost() {
        return vhost;
    }

    void selectedVirtualHost(VirtualHostContext vhost) {
        this.vhost = vhost;
    }

    boolean isSessionFetchCompleted() {
        return sessionFetchCompleted;
    }

    void wantSession(byte[] id) {
        wantedSessionId = id;
    }

    void offeredSessionFrom(boolean remote) {
        offeredSessionIsRemote = remote;
    }

    int version() throws Throwable {
        return (int) OpenSsl.SSL_version.invokeExact(ssl);
    }

    boolean hasOption(long option) throws Throwable {
        return ((long) OpenSsl.SSL_get_options.invokeExact(ssl) & option) != 0;
    }

    /**
     * Decrypts what has been received into {@code into} (native memory), as much as fits.
     *
     * @return bytes of plaintext; 0 if more input is needed or the client sent close_notify ({@link #closeNotifyReceived})
     * @throws OpenSslException on a protocol error, e.g. a corrupted record
     */
    public int readPlaintext(MemorySegment into) {
        ensureOpen();
        if (closeNotifyReceived) return 0;
        MemorySegment sizeOut = Scratch.get().sizeOut;
        long limit = into.byteSize();
        long total = 0;
        CURRENT.set(this);
        try {
            while (total < limit) {
                OpenSsl.clearErrors();
                int ok = (int) OpenSsl.SSL_read_ex.invokeExact(ssl, into.asSlice(total), limit - total, sizeOut);
                if (ok == 1) {
                    total += sizeOut.get(JAVA_LONG, 0);
                    continue;
                }
                int error = (int) OpenSsl.SSL_get_error.invokeExact(ssl, ok);
                if (error == TlsConstants.SSL_ERROR_WANT_READ) break;
                if (error == TlsConstants.SSL_ERROR_ZERO_RETURN) {
                    closeNotifyReceived = true;
                    break;
                }
                failed = true;
                throw OpenSsl.failure("TLS read");
            }
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        } finally {
            CURRENT.remove();
        }
        return (int) total;
    }

    /** Encrypts plaintext (native memory) for the client; the records wait in the write BIO for {@link #takeOutput}. */
    public void writePlaintext(MemorySegment plaintext) {
        ensureOpen();
        MemorySegment sizeOut = Scratch.get().sizeOut;
        long length = plaintext.byteSize();
        CURRENT.set(this);
        try {
            long done = 0;
            while (done < length) {
                OpenSsl.clearErrors();
                int ok = (int) OpenSsl.SSL_write_ex.invokeExact(ssl, plaintext.asSlice(done), length - done, sizeOut);
                if (ok != 1) {
                    failed = true;
                    throw OpenSsl.failure("TLS write");
                }
                done += sizeOut.get(JAVA_LONG, 0);
            }
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        } finally {
            CURRENT.remove();
        }
    }

    /** Ciphertext waiting to be sent to the client, in bytes. */
    public int pendingOutput() {
        ensureOpen();
        try {
            return (int) Math.min(Integer.MAX_VALUE, (long) OpenSsl.BIO_ctrl_pending.invokeExact(writeBio));
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
    }

    /**
     * Moves ciphertext waiting for the client (handshake messages, records, alerts) into {@code into} (native or
     * heap memory), as much as fits.
     *
     * @return bytes moved; 0 when nothing waits
     */
    public int takeOutput(MemorySegment into) {
        int n = (int) Math.min(pendingOutput(), into.byteSize());
        if (n == 0) return 0;
        try {
            int read = (int) OpenSsl.BIO_read.invokeExact(writeBio, into, n);
            if (read != n) throw OpenSsl.failure("BIO_read");
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
        return n;
    }

    /** Queues our close_notify alert (once); the caller then sends {@link #takeOutput}. */
    public void sendCloseNotify() {
        ensureOpen();
        if (closeNotifySent || !handshakeDone || failed) return;
        closeNotifySent = true;
        CURRENT.set(this);
        try {
            OpenSsl.clearErrors();
            int ignored = (int) OpenSsl.SSL_shutdown.invokeExact(ssl);
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        } finally {
            CURRENT.remove();
        }
    }

    public boolean handshakeDone() {
        return handshakeDone;
    }

    public boolean closeNotifyReceived() {
        return closeNotifyReceived;
    }

    public boolean resumed() {
        ensureOpen();
        try {
            return (int) OpenSsl.SSL_session_reused.invokeExact(ssl) == 1;
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
    }

    /** "TLSv1.3", "TLSv1.2", ... */
    public String protocol() {
        ensureOpen();
        try {
            return OpenSsl.cString((MemorySegment) OpenSsl.SSL_get_version.invokeExact(ssl));
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
    }

    /** The negotiated cipher suite's OpenSSL name, or null before the handshake. */
    public String cipher() {
        ensureOpen();
        try {
            MemorySegment cipher = (MemorySegment) OpenSsl.SSL_get_current_cipher.invokeExact(ssl);
            return cipher.equals(MemorySegment.NULL) ? null : OpenSsl.cString((MemorySegment) OpenSsl.SSL_CIPHER_get_name.invokeExact(cipher));
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
    }

    /** The SNI host name the client sent, or null. */
    public String serverName() {
        ensureOpen();
        try {
            return OpenSsl.cString((MemorySegment) OpenSsl.SSL_get_servername.invokeExact(ssl, TlsConstants.TLSEXT_NAMETYPE_host_name));
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
    }

    /** The ALPN protocol selected, or null if none was negotiated. */
    public String alpn() {
        ensureOpen();
        Scratch scratch = Scratch.get();
        try {
            OpenSsl.SSL_get0_alpn_selected.invokeExact(ssl, scratch.callbackPointerOut, scratch.callbackSizeOut);
            MemorySegment data = scratch.callbackPointerOut.get(ADDRESS, 0);
            int length = scratch.callbackSizeOut.get(JAVA_INT, 0);
            if (data.equals(MemorySegment.NULL) || length == 0) return null;
            return new String(data.reinterpret(length).toArray(JAVA_BYTE), StandardCharsets.US_ASCII);
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
    }

    /** The virtual host chosen from the ClientHello, or null before that. */
    public String virtualHost() {
        return vhost == null ? null : vhost.name();
    }

    /**
     * Frees the SSL and its BIOs. A connection that completed its handshake and saw no protocol error is marked
     * as cleanly shut down first: OpenSSL otherwise treats the session as broken and drops it from the cache,
     * and most clients close TCP without waiting for our close_notify.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            if (handshakeDone && !failed)
                OpenSsl.SSL_set_shutdown.invokeExact(ssl, TlsConstants.SSL_SENT_SHUTDOWN | TlsConstants.SSL_RECEIVED_SHUTDOWN);
            OpenSsl.SSL_free.invokeExact(ssl);
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        } finally {
            LIVE.decrementAndGet();
        }
    }

    /** After close() the SSL is freed: touching it would be a use-after-free, so fail loudly instead. */
    private void ensureOpen() {
        if (closed) throw new IllegalStateException("TLS connection already closed");
    }

    private static void freeBio(MemorySegment bio) throws Throwable {
        if (!bio.equals(MemorySegment.NULL)) {
            int ignored = (int) OpenSsl.BIO_free.invokeExact(bio);
        }
    }
}
