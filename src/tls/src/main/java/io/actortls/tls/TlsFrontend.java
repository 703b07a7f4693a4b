package io.actortls.tls;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The TLS side of one listener: a front SSL_CTX that every connection starts on, plus one
 * {@link VirtualHostContext} per virtual host.
 *
 * <p>The front context carries what OpenSSL reads from the connection's <em>original</em> context: protocol
 * versions, ciphers, groups, options, and the session cache (and later ticket keys). It has no certificate:
 * the ClientHello callback always moves the connection to a virtual host's context, and sets that vhost's
 * session ID context on the connection, so a session made under one vhost never resumes under another.
 *
 * <p>The virtual hosts can be rebuilt from their certificate and key files while the frontend serves
 * ({@link #prepareCertificates()}, then {@link #install}): new handshakes pick up the new contexts, established
 * connections keep the ones they started with (each SSL holds its own reference to its SSL_CTX).
 */
public final class TlsFrontend implements AutoCloseable {
    /** What to do with a ClientHello whose SNI names no configured virtual host. */
    public enum UnknownServerName { USE_DEFAULT, REJECT }

    /** remove_cb only tells us the SSL_CTX: find the frontend by its front context's address. */
    private static final ConcurrentHashMap<Long, TlsFrontend> BY_FRONT_CONTEXT = new ConcurrentHashMap<>();
    private static final MemorySegment PARAM_KEY = Arena.global().allocateFrom("key");
    private static final MemorySegment PARAM_DIGEST = Arena.global().allocateFrom("digest");
    private static final MemorySegment SHA256 = Arena.global().allocateFrom("SHA256");
    private static final long OSSL_PARAM_SIZE = 40;

    /**
     * How long a replaced vhost context stays allocated (and its ALPN callback target registered). A handshake
     * that read the old {@link Hosts} just before a swap may still be between choosing the context and
     * SSL_set_SSL_CTX (which takes the connection's own reference), or in the ALPN callback of that same
     * SSL_do_handshake call: microseconds, so a minute is a wide margin.
     */
    private static final long RETIRED_GRACE_MILLIS = 60_000;

    private final MemorySegment frontCtx;
    private final long callbackId;
    private final List<VirtualHostSpec> specs;
    private final String defaultVhostName;
    /** What new handshakes choose from; replaced as a whole, so a handshake sees one consistent set. */
    private volatile Hosts hosts;
    /** Replaced contexts not freed yet (guarded by this). */
    private final List<Retired> retired = new ArrayList<>();
    private final UnknownServerName unknownServerName;
    private final TlsSettings settings;
    private final SessionStore sessions;
    private final TicketKeyRing ticketKeys;
    private boolean closed;

    /** The virtual hosts with their server names and the default: one consistent set. */
    private record Hosts(List<VirtualHostContext> vhosts, ServerNameMatcher<VirtualHostContext> names,
                         VirtualHostContext defaultVhost) {
        void close() {
            vhosts.forEach(VirtualHostContext::close);
        }
    }

    private record Retired(Hosts hosts, long since) {}

    /**
     * Virtual hosts built from the certificate and key files as they are now, validated by OpenSSL, not serving
     * yet: {@link #install} them, or {@link #close()} to discard them.
     */
    public static final class PreparedCertificates implements AutoCloseable {
        private final Hosts hosts;
        private boolean used;

        private PreparedCertificates(Hosts hosts) {
            this.hosts = hosts;
        }

        /** The certificates the new contexts hold, one per vhost. */
        public List<CertificateInfo> certificates() {
            return hosts.vhosts().stream().map(VirtualHostContext::certificate).toList();
        }

        /** Discards them unless they were installed. */
        @Override
        public synchronized void close() {
            if (used) return;
            used = true;
            hosts.close();
        }

        private synchronized Hosts take() {
            if (used) throw new IllegalStateException("these certificates were installed or discarded already");
            used = true;
            return hosts;
        }
    }

    /**
     * @throws TlsSetupException if OpenSSL refuses a setting, certificate or key (with OpenSSL's reason), server
     *                           names clash, or the default vhost is not among {@code specs}
     */
    public TlsFrontend(TlsSettings settings, List<VirtualHostSpec> specs, String defaultVhostName,
                       UnknownServerName unknownServerName) {
        this(settings, specs, defaultVhostName, unknownServerName, null, null);
    }

    /**
     * @param sessions   the session cache; null keeps OpenSSL's internal one (this process only)
     * @param ticketKeys the ticket keys; null lets OpenSSL make random ones (this process only)
     */
    public TlsFrontend(TlsSettings settings, List<VirtualHostSpec> specs, String defaultVhostName,
                       UnknownServerName unknownServerName, SessionStore sessions, TicketKeyRing ticketKeys) {
        this.unknownServerName = unknownServerName;
        this.settings = settings;
        this.sessions = sessions;
        this.ticketKeys = ticketKeys;
        this.specs = List.copyOf(specs);
        this.defaultVhostName = defaultVhostName;
        OpenSsl.clearErrors();
        try {
            frontCtx = (MemorySegment) OpenSsl.SSL_CTX_new.invokeExact((MemorySegment) OpenSsl.TLS_server_method.invokeExact());
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
        if (frontCtx.equals(MemorySegment.NULL)) throw OpenSsl.failure("SSL_CTX_new");
        callbackId = CallbackTargets.register(this);
        BY_FRONT_CONTEXT.put(frontCtx.address(), this);
        try {
            configureFront(settings);
            configureResumption();
            hosts = buildHosts();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Every vhost's context from its files; on failure, frees what it built and throws. */
    private Hosts buildHosts() {
        List<VirtualHostContext> vhosts = new ArrayList<>();
        try {
            ServerNameMatcher<VirtualHostContext> names = new ServerNameMatcher<>();
            for (VirtualHostSpec spec : specs) {
                VirtualHostContext vhost = new VirtualHostContext(spec, settings);
                vhosts.add(vhost);
                for (String pattern : spec.serverNames()) {
                    try {
                        names.add(pattern, vhost);
                    } catch (IllegalArgumentException e) {
                        throw new TlsSetupException(TlsSetupException.Part.SERVER_NAMES, spec.name(), e.getMessage(), e);
                    }
                }
            }
            VirtualHostContext defaultVhost = vhosts.stream().filter(v -> v.name().equals(defaultVhostName)).findFirst()
                    .orElseThrow(() -> new TlsSetupException(TlsSetupException.Part.DEFAULT_VHOST, defaultVhostName,
                            "default virtual host " + defaultVhostName + " is not defined", null));
            return new Hosts(List.copyOf(vhosts), names, defaultVhost);
        } catch (RuntimeException e) {
            vhosts.forEach(VirtualHostContext::close);
            throw e;
        }
    }

    /**
     * Builds every vhost's context again from its certificate and key files (the paths it was configured with),
     * without serving them yet. Each vhost keeps its session ID context, so sessions still resume after an
     * {@link #install}.
     *
     * @throws TlsSetupException naming the vhost and OpenSSL's reason if any vhost's files do not load (bad PEM,
     *                           missing file, a key that does not match its certificate); nothing is kept then
     */
    public PreparedCertificates prepareCertificates() {
        if (closed) throw new IllegalStateException("TLS frontend is closed");
        return new PreparedCertificates(buildHosts());
    }

    /**
     * Serves {@code prepared} to new handshakes from now on, all vhosts at once. Connections already switched
     * to a replaced context keep it: SSL_set_SSL_CTX took a reference of their own, and ours is dropped only
     * after {@link #RETIRED_GRACE_MILLIS}.
     */
    public synchronized void install(PreparedCertificates prepared) {
        if (closed) throw new IllegalStateException("TLS frontend is closed");
        Hosts replaced = hosts;
        hosts = prepared.take();
        long now = System.currentTimeMillis();
        retired.removeIf(r -> {
            if (now - r.since() < RETIRED_GRACE_MILLIS) return false;
            r.hosts().close();
            return true;
        });
        retired.add(new Retired(replaced, now));
    }

    /** The certificates new handshakes get now, one per vhost. */
    public List<CertificateInfo> certificates() {
        return hosts.vhosts().stream().map(VirtualHostContext::certificate).toList();
    }

    /** The vhost whose session ID context this is, or null: which vhost a cached session belongs to. */
    public String virtualHostOfSession(byte[] sessionIdContext) {
        for (VirtualHostContext vhost : hosts.vhosts())
            if (java.util.Arrays.equals(vhost.sessionIdContext(), sessionIdContext)) return vhost.name();
        return null;
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

    /**
     * The front context holds the session cache and ticket keys for every vhost (OpenSSL looks both up in the
     * connection's original context). With a {@link SessionStore}, OpenSSL's internal cache is off and every
     * lookup goes through our callbacks.
     */
    private void configureResumption() {
        try {
            installResumptionCallbacks();
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
    }

    private void installResumptionCallbacks() throws Throwable {
        if (sessions != null) {
            ctrl(TlsConstants.SSL_CTRL_SET_SESS_CACHE_MODE,
                    TlsConstants.SSL_SESS_CACHE_SERVER | TlsConstants.SSL_SESS_CACHE_NO_INTERNAL, MemorySegment.NULL,
                    TlsSetupException.Part.VERSIONS, "session cache mode", true);
            OpenSsl.SSL_CTX_sess_set_new_cb.invokeExact(frontCtx, Callbacks.NEW_SESSION);
            OpenSsl.SSL_CTX_sess_set_get_cb.invokeExact(frontCtx, Callbacks.GET_SESSION);
            OpenSsl.SSL_CTX_sess_set_remove_cb.invokeExact(frontCtx, Callbacks.REMOVE_SESSION);
        }
        if (ticketKeys != null && (int) OpenSsl.SSL_CTX_set_tlsext_ticket_key_evp_cb.invokeExact(frontCtx, Callbacks.TICKET_KEY) != 1)
            throw setupFailure(TlsSetupException.Part.VERSIONS, "installing the ticket key callback");
    }

    private void ctrl(int command, long value, MemorySegment pointer, TlsSetupException.Part part, String what)
            throws Throwable {
        ctrl(command, value, pointer, part, what, false);
    }

    /** @param returnsPrevious the command answers the previous value (which may be 0), not success */
    private void ctrl(int command, long value, MemorySegment pointer, TlsSetupException.Part part, String what,
                      boolean returnsPrevious) throws Throwable {
        long result = (long) OpenSsl.SSL_CTX_ctrl.invokeExact(frontCtx, command, value, pointer);
        if (!returnsPrevious && result <= 0) throw setupFailure(part, what);
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
        return hosts.vhosts();
    }

    static TlsFrontend byFrontContext(MemorySegment ctx) {
        return BY_FRONT_CONTEXT.get(ctx.address());
    }

    /** Runs inside SSL_do_handshake on the connection's thread; see {@link Callbacks}. */
    int onClientHello(MemorySegment ssl, MemorySegment alert) throws Throwable {
        String serverName = requestedServerName(ssl);
        Hosts current = hosts;
        VirtualHostContext vhost;
        if (serverName == null) {
            vhost = current.defaultVhost();
        } else {
            Optional<VirtualHostContext> match = current.names().match(serverName);
            if (match.isEmpty() && unknownServerName == UnknownServerName.REJECT) {
                alert.set(JAVA_INT, 0, TlsConstants.SSL_AD_UNRECOGNIZED_NAME);
                return TlsConstants.SSL_CLIENT_HELLO_ERROR;
            }
            vhost = match.orElse(current.defaultVhost());
        }
        TlsConnection connection = TlsConnection.current();
        if (connection != null) connection.selectedVirtualHost(vhost);
        MemorySegment switched = (MemorySegment) OpenSsl.SSL_set_SSL_CTX.invokeExact(ssl, vhost.handle());
        if (switched.equals(MemorySegment.NULL)) {
            alert.set(JAVA_INT, 0, TlsConstants.SSL_AD_INTERNAL_ERROR);
            return TlsConstants.SSL_CLIENT_HELLO_ERROR;
        }
        byte[] sid = vhost.sessionIdContext();
        MemorySegment sidCopy = Scratch.get().sessionIdContext.asSlice(0, sid.length).copyFrom(MemorySegment.ofArray(sid));
        if ((int) OpenSsl.SSL_set_session_id_context.invokeExact(ssl, sidCopy, sid.length) != 1) {
            alert.set(JAVA_INT, 0, TlsConstants.SSL_AD_INTERNAL_ERROR);
            return TlsConstants.SSL_CLIENT_HELLO_ERROR;
        }
        // SSL_OP_NO_TICKET: no TLS 1.2 tickets, and stateful (cache-backed) TLS 1.3 tickets.
        VirtualHostSpec.Resumption resumption = vhost.spec().resumption();
        long ignored = resumption == VirtualHostSpec.Resumption.STATEFUL
                ? (long) OpenSsl.SSL_set_options.invokeExact(ssl, TlsConstants.SSL_OP_NO_TICKET)
                : (long) OpenSsl.SSL_clear_options.invokeExact(ssl, TlsConstants.SSL_OP_NO_TICKET);
        if (sessions != null && resumption != VirtualHostSpec.Resumption.TICKETS && connection != null
                && !connection.isSessionFetchCompleted()) {
            byte[] offered = offeredCachedSessionId(ssl);
            if (offered != null && !sessions.holds(offered)) {
                connection.wantSession(offered);
                return TlsConstants.SSL_CLIENT_HELLO_RETRY; // the handshake pauses until the session is fetched
            }
        }
        return TlsConstants.SSL_CLIENT_HELLO_SUCCESS;
    }

    /**
     * The session ID a client offers for a cache lookup, or null: the first TLS 1.3 PSK identity when it is a
     * stateful ticket (a session ID, at most 32 bytes; stateless tickets are longer), else a TLS 1.2 session ID.
     * A client that can speak TLS 1.3 sends a random legacy session ID for middleboxes, not to resume, and a
     * TLS 1.2 client offering a ticket resumes with the ticket.
     */
    private byte[] offeredCachedSessionId(MemorySegment ssl) throws Throwable {
        byte[] psk = extension(ssl, TlsConstants.TLSEXT_TYPE_psk);
        if (psk != null) {
            if (psk.length < 4) return null;
            int identityLength = ((psk[2] & 0xff) << 8) | (psk[3] & 0xff);
            boolean stateful = identityLength > 0 && identityLength <= TlsConstants.SSL_MAX_SSL_SESSION_ID_LENGTH
                    && 4 + identityLength <= psk.length;
            return stateful ? java.util.Arrays.copyOfRange(psk, 4, 4 + identityLength) : null;
        }
        if (settings.maxVersion() == TlsConstants.TLS1_3_VERSION && offersTls13(ssl)) return null;
        byte[] ticket = extension(ssl, TlsConstants.TLSEXT_TYPE_session_ticket);
        if (ticket != null && ticket.length > 0) return null;
        Scratch scratch = Scratch.get();
        long length = (long) OpenSsl.SSL_client_hello_get0_session_id.invokeExact(ssl, scratch.callbackPointerOut);
        if (length <= 0 || length > TlsConstants.SSL_MAX_SSL_SESSION_ID_LENGTH) return null;
        return scratch.callbackPointerOut.get(ADDRESS, 0).reinterpret(length).toArray(JAVA_BYTE);
    }

    private static boolean offersTls13(MemorySegment ssl) throws Throwable {
        byte[] versions = extension(ssl, TlsConstants.TLSEXT_TYPE_supported_versions);
        if (versions == null || versions.length < 1) return false;
        int end = Math.min(versions.length, 1 + (versions[0] & 0xff));
        for (int i = 1; i + 1 < end; i += 2)
            if (((versions[i] & 0xff) << 8 | (versions[i + 1] & 0xff)) == TlsConstants.TLS1_3_VERSION) return true;
        return false;
    }

    /** The raw bytes of a ClientHello extension, or null if the client did not send it. */
    private static byte[] extension(MemorySegment ssl, int type) throws Throwable {
        Scratch scratch = Scratch.get();
        if ((int) OpenSsl.SSL_client_hello_get0_ext.invokeExact(ssl, type, scratch.callbackPointerOut,
                scratch.callbackSizeOut) != 1) return null;
        long length = scratch.callbackSizeOut.get(JAVA_LONG, 0);
        return scratch.callbackPointerOut.get(ADDRESS, 0).reinterpret(length).toArray(JAVA_BYTE);
    }

    // ---- session cache callbacks (see Callbacks) -----------------------------------------------------------

    void onNewSession(TlsConnection connection, MemorySegment session) throws Throwable {
        VirtualHostContext vhost = connection.selectedVirtualHost();
        if (sessions == null || vhost == null || vhost.spec().resumption() == VirtualHostSpec.Resumption.TICKETS) return;
        // A TLS 1.3 stateless ticket carries its session itself; there is nothing to cache for it.
        if (connection.version() == TlsConstants.TLS1_3_VERSION && !connection.hasOption(TlsConstants.SSL_OP_NO_TICKET)) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment length = arena.allocate(JAVA_INT);
            MemorySegment id = (MemorySegment) OpenSsl.SSL_SESSION_get_id.invokeExact(session, length);
            byte[] sessionId = id.reinterpret(length.get(JAVA_INT, 0)).toArray(JAVA_BYTE);
            if (sessionId.length == 0) return;
            MemorySegment context = (MemorySegment) OpenSsl.SSL_SESSION_get0_id_context.invokeExact(session, length);
            byte[] idContext = context.reinterpret(length.get(JAVA_INT, 0)).toArray(JAVA_BYTE);
            int derLength = (int) OpenSsl.i2d_SSL_SESSION.invokeExact(session, MemorySegment.NULL);
            if (derLength <= 0) return;
            MemorySegment der = arena.allocate(derLength);
            MemorySegment cursor = arena.allocate(ADDRESS);
            cursor.set(ADDRESS, 0, der);
            if ((int) OpenSsl.i2d_SSL_SESSION.invokeExact(session, cursor) != derLength) return;
            long expiresAt = (long) OpenSsl.SSL_SESSION_get_time.invokeExact(session)
                    + (long) OpenSsl.SSL_SESSION_get_timeout.invokeExact(session);
            sessions.store(sessionId, der.toArray(JAVA_BYTE), idContext, expiresAt);
        }
    }

    MemorySegment onGetSession(TlsConnection connection, byte[] id) throws Throwable {
        if (sessions == null) return MemorySegment.NULL;
        SessionStore.Found found = sessions.lookup(id);
        if (found == null) return MemorySegment.NULL;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment der = arena.allocateFrom(JAVA_BYTE, found.der());
            MemorySegment cursor = arena.allocate(ADDRESS);
            cursor.set(ADDRESS, 0, der);
            // d2i copies what it needs; the new SSL_SESSION's one reference goes to OpenSSL (*copy = 0).
            MemorySegment session = (MemorySegment) OpenSsl.d2i_SSL_SESSION.invokeExact(MemorySegment.NULL, cursor,
                    (long) found.der().length);
            if (!session.equals(MemorySegment.NULL)) connection.offeredSessionFrom(found.remote());
            return session;
        }
    }

    void onRemoveSession(MemorySegment session) throws Throwable {
        if (sessions == null) return;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment length = arena.allocate(JAVA_INT);
            MemorySegment id = (MemorySegment) OpenSsl.SSL_SESSION_get_id.invokeExact(session, length);
            byte[] sessionId = id.reinterpret(length.get(JAVA_INT, 0)).toArray(JAVA_BYTE);
            if (sessionId.length > 0) sessions.remove(sessionId);
        }
    }

    /**
     * Sets up ticket encryption (AES-256-CBC + HMAC-SHA256) for OpenSSL, as SSL_CTX_set_tlsext_ticket_key_evp_cb
     * asks. Decrypting answers 2 ("valid, issue a new ticket") for TLS 1.3, so each resumption gets a fresh
     * ticket, and for TLS 1.2 tickets under a key that is no longer current, so clients move to the new key.
     */
    int onTicketKey(MemorySegment ssl, MemorySegment name, MemorySegment iv, MemorySegment cipherCtx,
                    MemorySegment macCtx, boolean encrypt) throws Throwable {
        if (ticketKeys == null) return 0;
        TicketKeyRing.TicketKey key;
        if (encrypt) {
            key = ticketKeys.current();
            if (key == null) return 0;
            MemorySegment.copy(MemorySegment.ofArray(key.name()), 0, name, 0, 16);
            if ((int) OpenSsl.RAND_bytes.invokeExact(iv, TlsConstants.EVP_MAX_IV_LENGTH) != 1) return -1;
        } else {
            key = ticketKeys.find(name.toArray(JAVA_BYTE));
            if (key == null) return 0; // unknown or retired key: full handshake, new ticket
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment aes = arena.allocateFrom(JAVA_BYTE, key.aesKey());
            MemorySegment cipher = (MemorySegment) OpenSsl.EVP_aes_256_cbc.invokeExact();
            int initialized = encrypt
                    ? (int) OpenSsl.EVP_EncryptInit_ex.invokeExact(cipherCtx, cipher, MemorySegment.NULL, aes, iv)
                    : (int) OpenSsl.EVP_DecryptInit_ex.invokeExact(cipherCtx, cipher, MemorySegment.NULL, aes, iv);
            if (initialized != 1) return -1;
            MemorySegment hmac = arena.allocateFrom(JAVA_BYTE, key.hmacKey());
            MemorySegment params = arena.allocate(3 * OSSL_PARAM_SIZE, 8); // zeroed: the third entry ends the array
            setParam(params, 0, PARAM_KEY, TlsConstants.OSSL_PARAM_OCTET_STRING, hmac, key.hmacKey().length);
            setParam(params, 1, PARAM_DIGEST, TlsConstants.OSSL_PARAM_UTF8_STRING, SHA256, 6);
            if ((int) OpenSsl.EVP_MAC_CTX_set_params.invokeExact(macCtx, params) != 1) return -1;
            // The key bytes we copied die with this arena; OpenSSL has its own copies now.
            aes.fill((byte) 0);
            hmac.fill((byte) 0);
        }
        if (encrypt) return 1;
        boolean tls13 = (int) OpenSsl.SSL_version.invokeExact(ssl) == TlsConstants.TLS1_3_VERSION;
        return tls13 || key != ticketKeys.current() ? 2 : 1;
    }

    /** One OSSL_PARAM: key at 0, data_type at 8, data at 16, data_size at 24, return_size at 32. */
    private static void setParam(MemorySegment params, int index, MemorySegment key, int type, MemorySegment data, long size) {
        long base = index * OSSL_PARAM_SIZE;
        params.set(ADDRESS, base, key);
        params.set(JAVA_INT, base + 8, type);
        params.set(ADDRESS, base + 16, data);
        params.set(JAVA_LONG, base + 24, size);
        params.set(JAVA_LONG, base + 32, -1L); // OSSL_PARAM_UNMODIFIED (SIZE_MAX)
    }

    /**
     * The host_name from the ClientHello's server_name extension (RFC 6066 section 3). OpenSSL has not parsed
     * extensions yet when the ClientHello callback runs, so SSL_get_servername would still be empty here.
     */
    private static String requestedServerName(MemorySegment ssl) throws Throwable {
        byte[] ext = extension(ssl, TlsConstants.TLSEXT_TYPE_server_name);
        if (ext == null || ext.length < 2) return null;
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
    public synchronized void close() {
        if (closed) return;
        closed = true;
        CallbackTargets.unregister(callbackId);
        BY_FRONT_CONTEXT.remove(frontCtx.address());
        if (hosts != null) hosts.close();
        retired.forEach(r -> r.hosts().close());
        retired.clear();
        try {
            OpenSsl.SSL_CTX_free.invokeExact(frontCtx);
        } catch (Throwable t) {
            throw OpenSsl.rethrow(t);
        }
    }
}
