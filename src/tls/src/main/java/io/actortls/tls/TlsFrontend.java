package io.actortls.tls;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The TLS side of one listener: a front SSL_CTX that every connection starts on, plus one
 * {@link VirtualHostContext} per virtual host.
 *
 * <p>The front context carries what OpenSSL reads from the connection's <em>original</em> context: protocol
 * versions, ciphers, groups, options, and the session cache (and later ticket keys). It has no certificate:
 * the ClientHello callback always moves the connection to a virtual host's context, and sets that vhost's
 * session ID context on the connection, so a session made under one vhost never resumes under another.
 */
public final class TlsFrontend implements AutoCloseable {
    /** What to do with a ClientHello whose SNI names no configured virtual host. */
    public enum UnknownServerName { USE_DEFAULT, REJECT }

    private final MemorySegment frontCtx;
    private final long callbackId;
    private final List<VirtualHostContext> vhosts = new ArrayList<>();
    private final Map<Long, VirtualHostContext> vhostByCtx = new HashMap<>();
    private final ServerNameMatcher<VirtualHostContext> names = new ServerNameMatcher<>();
    private final VirtualHostContext defaultVhost;
    private final UnknownServerName unknownServerName;
    private boolean closed;

    /**
     * @throws TlsSetupException if OpenSSL refuses a setting, certificate or key (with OpenSSL's reason), server
     *                           names clash, or the default vhost is not among {@code specs}
     */
    public TlsFrontend(TlsSettings settings, List<VirtualHostSpec> specs, String defaultVhostName,
                       UnknownServerName unknownServerName) {
        this.unknownServerName = unknownServerName;
        OpenSsl.clearErrors();
        try {
            frontCtx = (MemorySegment) OpenSsl.SSL_CTX_new.invokeExact((MemorySegment) OpenSsl.TLS_server_method.invokeExact());
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
        if (frontCtx.equals(MemorySegment.NULL)) throw OpenSsl.failure("SSL_CTX_new");
        callbackId = CallbackTargets.register(this);
        try {
            configureFront(settings);
            for (VirtualHostSpec spec : specs) {
                VirtualHostContext vhost = new VirtualHostContext(spec);
                vhosts.add(vhost);
                vhostByCtx.put(vhost.handle().address(), vhost);
                for (String pattern : spec.serverNames()) {
                    try {
                        names.add(pattern, vhost);
                    } catch (IllegalArgumentException e) {
                        throw new TlsSetupException(TlsSetupException.Part.SERVER_NAMES, spec.name(), e.getMessage(), e);
                    }
                }
            }
            defaultVhost = vhosts.stream().filter(v -> v.name().equals(defaultVhostName)).findFirst()
                    .orElseThrow(() -> new TlsSetupException(TlsSetupException.Part.DEFAULT_VHOST, defaultVhostName,
                            "default virtual host " + defaultVhostName + " is not defined", null));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void configureFront(TlsSettings settings) {
        try (Arena arena = Arena.ofConfined()) {
            long options = TlsConstants.SSL_OP_NO_RENEGOTIATION | TlsConstants.SSL_OP_CIPHER_SERVER_PREFERENCE
                    | TlsConstants.SSL_OP_NO_COMPRESSION;
            long ignored = (long) OpenSsl.SSL_CTX_set_options.invokeExact(frontCtx, options);
            ctrl(TlsConstants.SSL_CTRL_SET_MIN_PROTO_VERSION, settings.minVersion(), MemorySegment.NULL,
                    TlsSetupException.Part.VERSIONS, "minimum TLS version");
            ctrl(TlsConstants.SSL_CTRL_SET_MAX_PROTO_VERSION, settings.maxVersion(), MemorySegment.NULL,
                    TlsSetupException.Part.VERSIONS, "maximum TLS version");
            // Idle connections give their 16-34 KiB of record buffers back; a retried write may move (we copy anyway).
            ctrl(TlsConstants.SSL_CTRL_MODE,
                    TlsConstants.SSL_MODE_RELEASE_BUFFERS | TlsConstants.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER,
                    MemorySegment.NULL, TlsSetupException.Part.VERSIONS, "SSL mode");
            if ((int) OpenSsl.SSL_CTX_set_cipher_list.invokeExact(frontCtx, arena.allocateFrom(settings.cipherList())) != 1)
                throw setupFailure(TlsSetupException.Part.CIPHERS, "TLS 1.2 cipher list \"" + settings.cipherList() + "\"");
            if ((int) OpenSsl.SSL_CTX_set_ciphersuites.invokeExact(frontCtx, arena.allocateFrom(settings.cipherSuites())) != 1)
                throw setupFailure(TlsSetupException.Part.CIPHERSUITES, "TLS 1.3 cipher suites \"" + settings.cipherSuites() + "\"");
            ctrl(TlsConstants.SSL_CTRL_SET_GROUPS_LIST, 0, arena.allocateFrom(settings.groups()),
                    TlsSetupException.Part.GROUPS, "groups \"" + settings.groups() + "\"");
            long previousTimeout = (long) OpenSsl.SSL_CTX_set_timeout.invokeExact(frontCtx, settings.sessionTimeout().toSeconds());
            OpenSsl.SSL_CTX_set_client_hello_cb.invokeExact(frontCtx, Callbacks.CLIENT_HELLO, MemorySegment.ofAddress(callbackId));
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
    }

    private void ctrl(int command, long value, MemorySegment pointer, TlsSetupException.Part part, String what)
            throws Throwable {
        if ((long) OpenSsl.SSL_CTX_ctrl.invokeExact(frontCtx, command, value, pointer) <= 0) throw setupFailure(part, what);
    }

    private static TlsSetupException setupFailure(TlsSetupException.Part part, String what) {
        OpenSslException cause = OpenSsl.failure(what);
        return new TlsSetupException(part, null, cause.getMessage(), cause);
    }

    /** A new server-side connection over memory BIOs; the caller owns it and must close it. */
    public TlsConnection newConnection() {
        if (closed) throw new IllegalStateException("TLS frontend is closed");
        return new TlsConnection(this, frontCtx);
    }

    public List<VirtualHostContext> virtualHosts() {
        return List.copyOf(vhosts);
    }

    /** The virtual host a connection was moved to, from the SSL_CTX it now uses. */
    Optional<VirtualHostContext> virtualHostOf(MemorySegment ctx) {
        return Optional.ofNullable(vhostByCtx.get(ctx.address()));
    }

    /** Runs inside SSL_do_handshake on the connection's thread; see {@link Callbacks}. */
    int onClientHello(MemorySegment ssl, MemorySegment alert) throws Throwable {
        String serverName = requestedServerName(ssl);
        VirtualHostContext vhost;
        if (serverName == null) {
            vhost = defaultVhost;
        } else {
            Optional<VirtualHostContext> match = names.match(serverName);
            if (match.isEmpty() && unknownServerName == UnknownServerName.REJECT) {
                alert.set(JAVA_INT, 0, TlsConstants.SSL_AD_UNRECOGNIZED_NAME);
                return TlsConstants.SSL_CLIENT_HELLO_ERROR;
            }
            vhost = match.orElse(defaultVhost);
        }
        MemorySegment switched = (MemorySegment) OpenSsl.SSL_set_SSL_CTX.invokeExact(ssl, vhost.handle());
        if (switched.equals(MemorySegment.NULL)) {
            alert.set(JAVA_INT, 0, TlsConstants.SSL_AD_INTERNAL_ERROR);
            return TlsConstants.SSL_CLIENT_HELLO_ERROR;
        }
        byte[] sid = vhost.sessionIdContext();
        MemorySegment sidCopy = Scratch.get().buffer.asSlice(0, sid.length).copyFrom(MemorySegment.ofArray(sid));
        if ((int) OpenSsl.SSL_set_session_id_context.invokeExact(ssl, sidCopy, sid.length) != 1) {
            alert.set(JAVA_INT, 0, TlsConstants.SSL_AD_INTERNAL_ERROR);
            return TlsConstants.SSL_CLIENT_HELLO_ERROR;
        }
        return TlsConstants.SSL_CLIENT_HELLO_SUCCESS;
    }

    /**
     * The host_name from the ClientHello's server_name extension (RFC 6066 section 3). OpenSSL has not parsed
     * extensions yet when the ClientHello callback runs, so SSL_get_servername would still be empty here.
     */
    private static String requestedServerName(MemorySegment ssl) throws Throwable {
        Scratch scratch = Scratch.get();
        int present = (int) OpenSsl.SSL_client_hello_get0_ext.invokeExact(ssl, TlsConstants.TLSEXT_TYPE_server_name,
                scratch.callbackPointerOut, scratch.callbackSizeOut);
        if (present != 1) return null;
        long length = scratch.callbackSizeOut.get(JAVA_LONG, 0);
        byte[] ext = scratch.callbackPointerOut.get(ADDRESS, 0).reinterpret(length).toArray(JAVA_BYTE);
        if (ext.length < 2) return null;
        int listEnd = Math.min(ext.length, 2 + (((ext[0] & 0xff) << 8) | (ext[1] & 0xff)));
        for (int i = 2; i + 3 <= listEnd; ) {
            int type = ext[i] & 0xff;
            int nameLength = ((ext[i + 1] & 0xff) << 8) | (ext[i + 2] & 0xff);
            if (i + 3 + nameLength > listEnd) return null;
            if (type == TlsConstants.TLSEXT_NAMETYPE_host_name && nameLength > 0)
                return new String(ext, i + 3, nameLength, StandardCharsets.US_ASCII);
            i += 3 + nameLength;
        }
        return null;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        CallbackTargets.unregister(callbackId);
        vhosts.forEach(VirtualHostContext::close);
        try {
            OpenSsl.SSL_CTX_free.invokeExact(frontCtx);
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
    }
}
