package io.actortls.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.Run;
import io.actortls.testkit.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The binding alone, no actors: {@code openssl s_client} connects to a plain {@link ServerSocket}, and the test
 * thread moves the bytes between the socket and a {@link TlsConnection} (receive, handshake, readPlaintext,
 * writePlaintext, takeOutput), everything bounded in time.
 */
class TlsFrontendHandshakeTest {
    /** The TLS 1.2 ciphers of pekko.hocon's defaults. */
    static final String CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"
            + ":ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
    static final String CIPHERSUITES = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
    static final String GROUPS = "X25519:P-256:P-384";

    private static final Duration BOUND = Duration.ofSeconds(20);
    private static final byte[] REQUEST = "ping from s_client\n".getBytes(StandardCharsets.US_ASCII);
    private static final Pattern PEM = Pattern.compile("-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----");

    @TempDir
    static Path dir;
    static TestPki pki;
    static TestPki.Cert ecCert;
    static TestPki.Cert rsaCert;
    static TlsFrontend frontend;

    static TlsSettings settings() {
        return new TlsSettings(TlsConstants.TLS1_2_VERSION, TlsConstants.TLS1_3_VERSION, CIPHERS, CIPHERSUITES, GROUPS,
                Duration.ofHours(2));
    }

    static List<VirtualHostSpec> vhosts() {
        return List.of(
                new VirtualHostSpec("ec", List.of("ec.test", "*.ec.test"), ecCert.certificate(), ecCert.key(),
                        List.of("h2", "http/1.1")),
                new VirtualHostSpec("rsa", List.of("rsa.test"), rsaCert.certificate(), rsaCert.key(), List.of()));
    }

    @BeforeAll
    static void createFrontend() {
        pki = new TestPki(dir);
        ecCert = pki.issue("ec", TestPki.KeyType.EC_P256, "ec.test", "*.ec.test");
        rsaCert = pki.issue("rsa", TestPki.KeyType.RSA_2048, "rsa.test");
        frontend = new TlsFrontend(settings(), vhosts(), "ec", TlsFrontend.UnknownServerName.USE_DEFAULT);
    }

    @AfterAll
    static void closeFrontend() {
        if (frontend != null) frontend.close();
    }

    @ParameterizedTest
    @CsvSource({"-tls1_3, TLSv1.3", "-tls1_2, TLSv1.2"})
    void handshakeCompletesAndPlaintextCrossesBothWays(String clientVersion, String protocol) throws IOException {
        Served s = serve(frontend, clientVersion, "-servername", "ec.test", "-verify_hostname", "ec.test");
        assertEquals(protocol, s.protocol, s.client.all());
        assertNotNull(s.cipher);
        assertTrue(s.client.out().contains("Protocol  : " + protocol) || s.client.out().contains(", " + protocol + ","),
                s.client.all());
        assertTrue(s.client.out().contains("Verify return code: 0 (ok)"), s.client.all());
        assertEquals(new String(REQUEST, StandardCharsets.US_ASCII), s.plaintext, "what the server decrypted");
        assertTrue(s.client.out().contains(reply(s.plaintext)), "s_client prints the server's reply\n" + s.client.all());
        assertTrue(s.closeNotifyReceived, "s_client answers our close_notify\n" + s.client.all());
    }

    @Test
    void plaintextLargerThanRecordsAndBuffersCrossesBothWays() throws IOException {
        StringBuilder text = new StringBuilder();
        for (int line = 0; text.length() < 150_000; line++) text.append("line ").append(line).append(" of the large request\n");
        byte[] request = text.toString().getBytes(StandardCharsets.US_ASCII); // > 9 records of 16 KiB, > 2 scratch buffers
        Served s = serve(frontend, request, "-tls1_3", "-servername", "ec.test");
        assertEquals(text.toString(), s.plaintext);
        assertTrue(s.client.out().contains(reply(s.plaintext)), "s_client prints the whole reply");
    }

    @ParameterizedTest
    @CsvSource({
            "rsa.test,    rsa, rsa.test",
            "ec.test,     ec,  ec.test",
            "api.ec.test, ec,  ec.test",
            "RSA.Test,    rsa, rsa.test",
            "other.test,  ec,  ec.test",   // unknown name: the default vhost (USE_DEFAULT)
            "a.b.ec.test, ec,  ec.test"})  // one-label wildcard does not match: the default vhost as well
    void sniSelectsTheVirtualHostAndItsCertificate(String serverName, String vhost, String certificateName)
            throws IOException {
        Served s = serve(frontend, "-tls1_3", "-servername", serverName);
        assertEquals(vhost, s.virtualHost, s.client.all());
        assertEquals(serverName, s.serverName);
        assertCertificateSeen(vhost.equals("rsa") ? rsaCert : ecCert, s.client);
        assertTrue(s.client.out().contains("subject=CN = " + certificateName), s.client.all());
        assertTrue(s.client.out().contains(vhost.equals("rsa") ? "Server public key is 2048 bit" : "Server public key is 256 bit"),
                s.client.all());
    }

    @Test
    void noSniGetsTheDefaultVirtualHost() throws IOException {
        Served s = serve(frontend, "-tls1_2", "-noservername");
        assertEquals("ec", s.virtualHost);
        assertNull(s.serverName);
        assertCertificateSeen(ecCert, s.client);
    }

    @Test
    void tls12WithTheRsaCertificate() throws IOException {
        Served s = serve(frontend, "-tls1_2", "-servername", "rsa.test", "-verify_hostname", "rsa.test");
        assertEquals("TLSv1.2", s.protocol);
        assertEquals("rsa", s.virtualHost);
        assertTrue(s.cipher.startsWith("ECDHE-RSA-"), s.cipher);
        assertCertificateSeen(rsaCert, s.client);
    }

    @Test
    void anUnknownNameIsRefusedWithUnrecognizedNameWhenConfigured() throws IOException {
        try (TlsFrontend rejecting = new TlsFrontend(settings(), vhosts(), "ec", TlsFrontend.UnknownServerName.REJECT)) {
            Served known = serve(rejecting, "-tls1_3", "-servername", "rsa.test");
            assertEquals("rsa", known.virtualHost);
            Served noSni = serve(rejecting, "-tls1_3", "-noservername");
            assertEquals("ec", noSni.virtualHost, "no SNI still gets the default vhost");

            Served refused = serve(rejecting, "-tls1_3", "-servername", "other.test");
            assertNotNull(refused.failure, "the handshake must fail");
            assertTrue(refused.failure.getMessage().toLowerCase().contains("callback failed"), refused.failure.getMessage());
            assertTrue(refused.client.all().contains("unrecognized name"), "s_client sees the alert\n" + refused.client.all());
        }
    }

    /**
     * The configured ciphers hold after SNI has switched the connection to its vhost's context (OpenSSL takes a
     * connection's cipher list from its current context), for every vhost and without SNI.
     */
    @ParameterizedTest
    @CsvSource({"ec.test, ECDHE-ECDSA-AES128-SHA", "rsa.test, ECDHE-RSA-AES128-SHA", "rsa.test, AES128-GCM-SHA256",
            "-, ECDHE-ECDSA-AES256-SHA384"})
    void aCipherOutsideTheConfiguredListIsRefusedInEveryVirtualHost(String serverName, String cipher) throws IOException {
        Served s = serverName.equals("-") ? serve(frontend, "-tls1_2", "-noservername", "-cipher", cipher)
                : serve(frontend, "-tls1_2", "-servername", serverName, "-cipher", cipher);
        assertNotNull(s.failure, cipher + " must not be negotiated; got " + s.cipher);
        assertTrue(s.client.all().contains("handshake failure"), s.client.all());
    }

    /** SSL_OP_CIPHER_SERVER_PREFERENCE: the list's order decides, not the client's, in every vhost. */
    @ParameterizedTest
    @CsvSource({"ec.test, ECDHE-ECDSA-AES128-GCM-SHA256", "rsa.test, ECDHE-RSA-AES128-GCM-SHA256"})
    void theServersCipherOrderWinsOverTheClients(String serverName, String first) throws IOException {
        Served s = serve(frontend, "-tls1_2", "-servername", serverName, "-cipher",
                "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:"
                        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256");
        assertEquals(first, s.cipher, s.client.all());
    }

    @ParameterizedTest
    @CsvSource({
            "'http/1.1,h2', h2",        // server preference wins over the client's order
            "'h2,http/1.1', h2",
            "http/1.1,      http/1.1",
            "'spdy/3,h2',   h2"})
    void alpnFollowsTheServersPreference(String offered, String chosen) throws IOException {
        Served s = serve(frontend, "-tls1_3", "-servername", "ec.test", "-alpn", offered);
        assertEquals(chosen, s.alpn);
        assertTrue(s.client.out().contains("ALPN protocol: " + chosen), s.client.all());
    }

    @Test
    void noCommonAlpnProtocolContinuesWithoutAlpn() throws IOException {
        Served s = serve(frontend, "-tls1_3", "-servername", "ec.test", "-alpn", "spdy/3,imap");
        assertNull(s.alpn);
        assertTrue(s.client.out().contains("No ALPN negotiated"), s.client.all());
        Served none = serve(frontend, "-tls1_3", "-servername", "rsa.test", "-alpn", "h2");
        assertNull(none.alpn, "the rsa vhost lists no ALPN protocols");
        assertEquals(new String(REQUEST, StandardCharsets.US_ASCII), none.plaintext);
    }

    @ParameterizedTest
    @CsvSource({"-tls1_3", "-tls1_2"})
    void aSessionResumesUnderItsOwnVhostOnly(String version) throws IOException {
        String session = dir.resolve("session" + version + ".pem").toString();
        Served first = serve(frontend, version, "-servername", "rsa.test", "-sess_out", session);
        assertFalse(first.resumed);
        Served again = serve(frontend, version, "-servername", "rsa.test", "-sess_in", session);
        assertTrue(again.resumed, "same vhost: resumed\n" + again.client.all());
        assertTrue(again.client.out().contains("Reused, "), again.client.all());
        Served elsewhere = serve(frontend, version, "-servername", "ec.test", "-sess_in", session);
        assertEquals("ec", elsewhere.virtualHost);
        assertFalse(elsewhere.resumed, "another vhost must not resume the rsa vhost's session\n" + elsewhere.client.all());
        assertCertificateSeen(ecCert, elsewhere.client);
    }

    @Test
    void liveCountReturnsToItsStartAfterClose() throws IOException {
        long start = TlsConnection.liveCount();
        List<TlsConnection> connections = new ArrayList<>();
        for (int i = 0; i < 5; i++) connections.add(frontend.newConnection());
        assertEquals(start + 5, TlsConnection.liveCount());
        connections.forEach(TlsConnection::close);
        connections.getFirst().close(); // a second close changes nothing
        assertEquals(start, TlsConnection.liveCount());

        serve(frontend, "-tls1_3", "-servername", "ec.test"); // a completed handshake
        try (TlsConnection failed = frontend.newConnection()) { // and a failed one
            byte[] junk = "not TLS at all\r\n".getBytes(StandardCharsets.US_ASCII);
            failed.receive(MemorySegment.ofArray(junk));
            assertThrows(OpenSslException.class, failed::handshake);
            assertEquals(start + 1, TlsConnection.liveCount());
        }
        assertEquals(start, TlsConnection.liveCount());
    }

    private static void assertCertificateSeen(TestPki.Cert expected, Run client) throws IOException {
        Matcher seen = PEM.matcher(client.out());
        assertTrue(seen.find(), "s_client printed no certificate\n" + client.all());
        Matcher file = PEM.matcher(Files.readString(expected.certificate()));
        assertTrue(file.find());
        assertEquals(file.group().replaceAll("\\s", ""), seen.group().replaceAll("\\s", ""),
                "s_client saw another certificate than " + expected.certificate());
    }

    static String reply(String request) {
        return "pong for " + request.strip() + "\n";
    }

    /** What the server side saw of one s_client connection, and the client's own output. */
    record Served(String protocol, String cipher, String virtualHost, String serverName, String alpn, String plaintext,
                  boolean closeNotifyReceived, boolean resumed, OpenSslException failure, Run client) {}

    /**
     * Accepts one {@code openssl s_client} connection and serves it on this thread: handshake, read the request
     * (what s_client got on stdin), answer {@link #reply}, close_notify. A failed handshake is returned in
     * {@link Served#failure} after the alert has been sent. The connection is closed and
     * {@link TlsConnection#liveCount()} is back where it was when this returns.
     */
    static Served serve(TlsFrontend frontend, String... clientArgs) throws IOException {
        return serve(frontend, REQUEST, clientArgs);
    }

    static Served serve(TlsFrontend frontend, byte[] requestBytes, String... clientArgs) throws IOException {
        long liveBefore = TlsConnection.liveCount();
        Served served;
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            server.setSoTimeout((int) BOUND.toMillis());
            List<String> command = new ArrayList<>(List.of("openssl", "s_client",
                    "-connect", "127.0.0.1:" + server.getLocalPort(), "-CAfile", pki.caCertificate().toString(),
                    "-verify_return_error", "-ign_eof", "-nocommands"));
            command.addAll(List.of(clientArgs));
            CompletableFuture<Run> client = Run.start(command, requestBytes, BOUND);
            try (Socket socket = server.accept(); TlsConnection tls = frontend.newConnection()) {
                assertEquals(liveBefore + 1, TlsConnection.liveCount());
                Pump pump = new Pump(socket, tls, client);
                try {
                    while (tls.handshake() != HandshakeProgress.DONE) pump.exchangeOrFail("during the handshake");
                } catch (OpenSslException e) {
                    pump.flush(); // the alert
                    return new Served(null, null, tls.virtualHost(), null, null, null, false, false, e, pump.client());
                }
                pump.flush();
                ByteArrayOutputStream plaintext = new ByteArrayOutputStream();
                while (true) {
                    plaintext.write(pump.readPlaintext());
                    if (plaintext.size() >= requestBytes.length || tls.closeNotifyReceived()) break;
                    pump.exchangeOrFail("before sending its request");
                }
                String request = plaintext.toString(StandardCharsets.US_ASCII);
                byte[] answer = reply(request).getBytes(StandardCharsets.US_ASCII);
                pump.writePlaintext(answer);
                tls.sendCloseNotify();
                pump.flush();
                // s_client answers close_notify with its own and exits; read until then.
                while (!tls.closeNotifyReceived() && pump.exchange()) pump.readPlaintext();
                served = new Served(tls.protocol(), tls.cipher(), tls.virtualHost(), tls.serverName(), tls.alpn(),
                        request, tls.closeNotifyReceived(), tls.resumed(), null, pump.client());
            }
        } finally {
            assertEquals(liveBefore, TlsConnection.liveCount(), "a TlsConnection was not freed");
        }
        assertEquals(0, served.client.exitCode(), served.client.all());
        return served;
    }

    /** Moves bytes between the socket and the connection, with the whole exchange bounded by {@link #BOUND}. */
    static final class Pump {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final TlsConnection tls;
        private final CompletableFuture<Run> client;
        private final long deadline = System.nanoTime() + BOUND.toNanos();
        private final byte[] buffer = new byte[16 * 1024];
        /** OpenSSL reads and writes plaintext in native memory only. */
        private final MemorySegment nativeBuffer = Arena.ofAuto().allocate(64 * 1024);

        Pump(Socket socket, TlsConnection tls, CompletableFuture<Run> client) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
            this.tls = tls;
            this.client = client;
            socket.setSoTimeout(100);
        }

        void flush() throws IOException {
            int n;
            while ((n = tls.takeOutput(MemorySegment.ofArray(buffer))) > 0) out.write(buffer, 0, n);
            out.flush();
        }

        byte[] readPlaintext() {
            return nativeBuffer.asSlice(0, tls.readPlaintext(nativeBuffer)).toArray(ValueLayout.JAVA_BYTE);
        }

        void writePlaintext(byte[] plaintext) {
            for (int done = 0; done < plaintext.length; ) {
                int chunk = (int) Math.min(nativeBuffer.byteSize(), plaintext.length - done);
                tls.writePlaintext(nativeBuffer.asSlice(0, chunk).copyFrom(MemorySegment.ofArray(plaintext).asSlice(done, chunk)));
                done += chunk;
            }
        }

        /** Sends what OpenSSL wrote, then hands OpenSSL what arrived; false once the client closed the socket. */
        boolean exchange() throws IOException {
            flush();
            if (System.nanoTime() > deadline)
                throw new AssertionError("no progress within " + BOUND + "\n" + clientOutput());
            try {
                int n = in.read(buffer);
                if (n < 0) return false;
                tls.receive(MemorySegment.ofArray(buffer).asSlice(0, n));
            } catch (SocketTimeoutException nothingYet) {
                // poll again
            }
            return true;
        }

        void exchangeOrFail(String when) throws IOException {
            if (!exchange()) throw new AssertionError("s_client closed the connection " + when + "\n" + clientOutput());
        }

        Run client() throws IOException {
            socket.shutdownOutput();
            try {
                return client.get(BOUND.toSeconds(), TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("s_client did not finish", e);
            }
        }

        private String clientOutput() {
            try {
                socket.close();
                return "s_client: " + client.get(BOUND.toSeconds(), TimeUnit.SECONDS).all();
            } catch (Exception e) {
                return "s_client: " + e;
            }
        }
    }
}
