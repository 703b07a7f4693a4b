package io.actortls.tls;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * One virtual host's SSL_CTX: its certificate chain, key and ALPN preferences. Connections are switched to it
 * from the ClientHello callback. Owned by its {@link TlsFrontend}; SSL_CTX_free on close only drops our
 * reference, so connections still using the context keep it alive inside OpenSSL.
 */
public final class VirtualHostContext implements AutoCloseable {
    private final VirtualHostSpec spec;
    private final MemorySegment ctx;
    private final long callbackId;
    private final byte[][] alpnPreference;
    private final byte[] sessionIdContext;
    private final CertificateInfo certificate;
    private boolean closed;

    VirtualHostContext(VirtualHostSpec spec, TlsSettings settings) {
        this.spec = spec;
        this.alpnPreference = spec.alpn().stream().map(p -> p.getBytes(StandardCharsets.US_ASCII)).toArray(byte[][]::new);
        this.sessionIdContext = sessionIdContext(spec);
        OpenSsl.clearErrors();
        try {
            ctx = (MemorySegment) OpenSsl.SSL_CTX_new.invokeExact((MemorySegment) OpenSsl.TLS_server_method.invokeExact());
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
        if (ctx.equals(MemorySegment.NULL)) throw OpenSsl.failure("SSL_CTX_new");
        callbackId = CallbackTargets.register(this);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment chain = arena.allocateFrom(spec.certificateChain().toString());
            MemorySegment key = arena.allocateFrom(spec.privateKey().toString());
            if ((int) OpenSsl.SSL_CTX_use_certificate_chain_file.invokeExact(ctx, chain) != 1)
                throw setupFailure(TlsSetupException.Part.CERTIFICATE, "loading certificate chain " + spec.certificateChain());
            if ((int) OpenSsl.SSL_CTX_use_PrivateKey_file.invokeExact(ctx, key, TlsConstants.SSL_FILETYPE_PEM) != 1) {
                // OpenSSL already compares a key with the certificate of its type: a readable key of another
                // certificate fails here with "key values mismatch", which is a mismatch, not a bad key file.
                OpenSslException cause = OpenSsl.failure("loading private key " + spec.privateKey());
                if (cause.hasReason(TlsConstants.ERR_LIB_X509, TlsConstants.X509_R_KEY_VALUES_MISMATCH))
                    throw new TlsSetupException(TlsSetupException.Part.KEY_MISMATCH, spec.name(),
                            keyMismatch() + ": " + String.join("; ", cause.reasons()), cause);
                throw new TlsSetupException(TlsSetupException.Part.PRIVATE_KEY, spec.name(), cause.getMessage(), cause);
            }
            if ((int) OpenSsl.SSL_CTX_check_private_key.invokeExact(ctx) != 1)
                throw setupFailure(TlsSetupException.Part.KEY_MISMATCH, keyMismatch());
            // OpenSSL takes a connection's ciphers from its current context: once SNI has switched it here, these
            // lists count, not the front context's (without them, OpenSSL's DEFAULT list, CBC and RSA kx included).
            if ((int) OpenSsl.SSL_CTX_set_cipher_list.invokeExact(ctx, arena.allocateFrom(settings.cipherList())) != 1)
                throw setupFailure(TlsSetupException.Part.CIPHERS, "TLS 1.2 cipher list \"" + settings.cipherList() + "\"");
            if ((int) OpenSsl.SSL_CTX_set_ciphersuites.invokeExact(ctx, arena.allocateFrom(settings.cipherSuites())) != 1)
                throw setupFailure(TlsSetupException.Part.CIPHERSUITES, "TLS 1.3 cipher suites \"" + settings.cipherSuites() + "\"");
            MemorySegment sid = arena.allocateFrom(JAVA_BYTE, sessionIdContext);
            if ((int) OpenSsl.SSL_CTX_set_session_id_context.invokeExact(ctx, sid, sessionIdContext.length) != 1)
                throw OpenSsl.failure("SSL_CTX_set_session_id_context");
            if (alpnPreference.length > 0)
                OpenSsl.SSL_CTX_set_alpn_select_cb.invokeExact(ctx, Callbacks.ALPN_SELECT, MemorySegment.ofAddress(callbackId));
            certificate = loadedCertificate(arena);
        } catch (Throwable t) {
            close();
            throw OpenSsl.rethrow(t);
        }
    }

    public String name() {
        return spec.name();
    }

    public VirtualHostSpec spec() {
        return spec;
    }

    MemorySegment handle() {
        return ctx;
    }

    byte[] sessionIdContext() {
        return sessionIdContext;
    }

    /** The leaf certificate this context presents, as OpenSSL loaded it. */
    public CertificateInfo certificate() {
        return certificate;
    }

    private CertificateInfo loadedCertificate(Arena arena) throws Throwable {
        MemorySegment x509 = (MemorySegment) OpenSsl.SSL_CTX_get0_certificate.invokeExact(ctx);
        int length = (int) OpenSsl.i2d_X509.invokeExact(x509, MemorySegment.NULL);
        if (x509.equals(MemorySegment.NULL) || length <= 0) throw OpenSsl.failure("reading back the certificate of " + spec.name());
        MemorySegment der = arena.allocate(length);
        MemorySegment cursor = arena.allocate(java.lang.foreign.ValueLayout.ADDRESS);
        cursor.set(java.lang.foreign.ValueLayout.ADDRESS, 0, der);
        if ((int) OpenSsl.i2d_X509.invokeExact(x509, cursor) != length) throw OpenSsl.failure("i2d_X509");
        return CertificateInfo.of(spec.name(), spec.certificateChain().toString(), der.toArray(JAVA_BYTE));
    }

    /**
     * Server-preference ALPN choice.
     *
     * @param offered the client's wire-format list (length-prefixed names)
     * @return the offset of the chosen entry's length byte in {@code offered}, or -1 if nothing overlaps
     */
    long chooseProtocol(MemorySegment offered) {
        byte[] client = offered.toArray(JAVA_BYTE);
        for (byte[] wanted : alpnPreference) {
            for (int i = 0; i < client.length; ) {
                int length = Byte.toUnsignedInt(client[i]);
                if (length == 0 || i + 1 + length > client.length) break; // malformed: stop at what we understood
                if (length == wanted.length && Arrays.equals(client, i + 1, i + 1 + length, wanted, 0, length)) return i;
                i += 1 + length;
            }
        }
        return -1;
    }

    /**
     * Distinct per virtual host, identical on every node and across certificate reloads and restarts: a session
     * resumes only under the vhost that created it, on any node, also after that vhost's certificate was renewed
     * (as with a session cache that survives a reload; {@code actortls sessions flush} ends them all at once).
     */
    private static byte[] sessionIdContext(VirtualHostSpec spec) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            return sha256.digest(("actortls-vhost:" + spec.name() + "\n").getBytes(StandardCharsets.UTF_8)); // 32 bytes, OpenSSL's maximum
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private String keyMismatch() {
        return "private key " + spec.privateKey() + " does not match certificate " + spec.certificateChain();
    }

    private TlsSetupException setupFailure(TlsSetupException.Part part, String what) {
        OpenSslException cause = OpenSsl.failure(what);
        return new TlsSetupException(part, spec.name(), cause.getMessage(), cause);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        CallbackTargets.unregister(callbackId);
        try {
            OpenSsl.SSL_CTX_free.invokeExact(ctx);
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
    }
}
