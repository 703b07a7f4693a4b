package io.actortls.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.TestPki;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures carry OpenSSL's own reason text: a handshake fed garbage throws {@link OpenSslException}, and a
 * {@link TlsFrontend} that OpenSSL refuses to set up throws {@link TlsSetupException} naming the part and the
 * virtual host.
 */
class ReportsOpenSslReasonsTest {
    @TempDir
    static Path dir;
    static TestPki.Cert ec;
    static TestPki.Cert otherEc;
    static TestPki.Cert rsa;

    @BeforeAll
    static void certificates() {
        TestPki pki = new TestPki(dir);
        ec = pki.issue("ec", TestPki.KeyType.EC_P256, "ec.test");
        otherEc = pki.issue("other-ec", TestPki.KeyType.EC_P256, "other.test");
        rsa = pki.issue("rsa", TestPki.KeyType.RSA_2048, "rsa.test");
    }

    // --- handshakes fed garbage

    @Test
    void anHttpRequestInsteadOfAClientHelloIsReportedAsSuch() {
        OpenSslException e = handshakeWith("GET / HTTP/1.1\r\nHost: ec.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(e.getMessage().startsWith("TLS handshake: "), e.getMessage());
        assertTrue(e.getMessage().contains("http request"), e.getMessage());
        assertReasonsAreOpenSsls(e, "http request");
    }

    @Test
    void aRecordWithAnUnknownVersionIsReportedAsSuch() {
        // A handshake record header claiming protocol version 9.9, then a few bytes.
        byte[] record = {0x16, 0x09, 0x09, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};
        OpenSslException e = handshakeWith(record);
        assertReasonsAreOpenSsls(e, "wrong version number");
    }

    @Test
    void aHandshakeFailureDoesNotLeakTheConnection() {
        long live = TlsConnection.liveCount();
        handshakeWith("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".getBytes(StandardCharsets.US_ASCII));
        assertEquals(live, TlsConnection.liveCount());
    }

    private static OpenSslException handshakeWith(byte[] input) {
        try (TlsFrontend frontend = frontend(List.of(vhost("site", ec.certificate(), ec.key())));
             TlsConnection connection = frontend.newConnection()) {
            connection.receive(MemorySegment.ofArray(input));
            OpenSslException e = assertThrows(OpenSslException.class, connection::handshake);
            assertFalse(connection.handshakeDone());
            connection.takeOutput(MemorySegment.ofArray(new byte[64 * 1024])); // whatever alert OpenSSL queued: taking it must not fail either
            return e;
        }
    }

    private static void assertReasonsAreOpenSsls(OpenSslException e, String reason) {
        assertFalse(e.reasons().isEmpty(), e.getMessage());
        assertTrue(e.reasons().stream().allMatch(r -> r.matches("error:[0-9A-F]{8}:.*")), e.reasons().toString());
        assertTrue(e.reasons().stream().anyMatch(r -> r.endsWith(":" + reason)), "expected OpenSSL's \"" + reason + "\": " + e.reasons());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    // --- setup refused

    @Test
    void aMissingCertificateFileNamesTheVhostAndTheFile() {
        Path missing = dir.resolve("missing.crt");
        TlsSetupException e = setupFails(List.of(vhost("site", missing, ec.key())));
        assertPart(e, TlsSetupException.Part.CERTIFICATE, "site");
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().toLowerCase().matches("(?s).*no ?such ?file.*"), e.getMessage());
    }

    @Test
    void aCertificateFileWithoutPemIsRefusedWithOpenSslsReason() throws IOException {
        Path garbage = Files.writeString(dir.resolve("garbage.crt"), "this is not a certificate\n");
        TlsSetupException e = setupFails(List.of(vhost("site", garbage, ec.key())));
        assertPart(e, TlsSetupException.Part.CERTIFICATE, "site");
        assertTrue(e.getMessage().contains(garbage.toString()), e.getMessage());
        assertOpenSslReason(e, "no start line");
    }

    @Test
    void aMissingKeyFileNamesTheVhostAndTheFile() {
        Path missing = dir.resolve("missing.key");
        TlsSetupException e = setupFails(List.of(vhost("site", ec.certificate(), missing)));
        assertPart(e, TlsSetupException.Part.PRIVATE_KEY, "site");
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertOpenSslReason(e, "No such file or directory");
    }

    @Test
    void aKeyOfAnotherCertificateIsAKeyMismatchWithOpenSslsReason() {
        TlsSetupException e = setupFails(List.of(vhost("good", rsa.certificate(), rsa.key()),
                vhost("site", ec.certificate(), otherEc.key())));
        assertPart(e, TlsSetupException.Part.KEY_MISMATCH, "site");
        assertTrue(e.getMessage().contains(otherEc.key().toString()), e.getMessage());
        assertOpenSslReason(e, "key values mismatch");
    }

    @Test
    void aKeyOfAnotherTypeIsAKeyMismatch() {
        TlsSetupException e = setupFails(List.of(vhost("site", ec.certificate(), rsa.key())));
        assertPart(e, TlsSetupException.Part.KEY_MISMATCH, "site");
        assertTrue(e.getMessage().contains("does not match"), e.getMessage());
        assertTrue(e.getMessage().contains(rsa.key().toString()), e.getMessage());
    }

    @Test
    void anInvalidCipherListIsRefusedWithOpenSslsReason() {
        TlsSetupException e = setupFails(settings(s -> s.ciphers = "NO-SUCH-CIPHER"), List.of(vhost("site", ec.certificate(), ec.key())), "site");
        assertPart(e, TlsSetupException.Part.CIPHERS, null);
        assertTrue(e.getMessage().contains("NO-SUCH-CIPHER"), e.getMessage());
        assertOpenSslReason(e, "no cipher match");
    }

    @Test
    void invalidTls13CipherSuitesAreRefusedWithOpenSslsReason() {
        TlsSetupException e = setupFails(settings(s -> s.ciphersuites = "TLS_NO_SUCH_SUITE"), List.of(vhost("site", ec.certificate(), ec.key())), "site");
        assertPart(e, TlsSetupException.Part.CIPHERSUITES, null);
        assertTrue(e.getMessage().contains("TLS_NO_SUCH_SUITE"), e.getMessage());
        assertOpenSslReason(e, "no cipher match");
    }

    @Test
    void anUnknownGroupIsRefused() {
        TlsSetupException e = setupFails(settings(s -> s.groups = "X25519:no-such-group"), List.of(vhost("site", ec.certificate(), ec.key())), "site");
        assertPart(e, TlsSetupException.Part.GROUPS, null);
        assertTrue(e.getMessage().contains("no-such-group"), e.getMessage());
        assertInstanceOf(OpenSslException.class, e.getCause());
    }

    @Test
    void aServerNameClaimedByTwoVhostsIsReportedAsServerNames() {
        TlsSetupException e = setupFails(List.of(
                new VirtualHostSpec("first", List.of("shared.test", "*.wild.test"), ec.certificate(), ec.key(), List.of()),
                new VirtualHostSpec("second", List.of("other.test", "SHARED.test."), rsa.certificate(), rsa.key(), List.of())));
        assertPart(e, TlsSetupException.Part.SERVER_NAMES, "second");
        assertTrue(e.getMessage().contains("SHARED.test."), e.getMessage());

        TlsSetupException wildcard = setupFails(List.of(
                new VirtualHostSpec("first", List.of("*.wild.test"), ec.certificate(), ec.key(), List.of()),
                new VirtualHostSpec("second", List.of("*.Wild.test"), rsa.certificate(), rsa.key(), List.of())));
        assertPart(wildcard, TlsSetupException.Part.SERVER_NAMES, "second");
    }

    @Test
    void aMalformedServerNameIsReportedAsServerNames() {
        TlsSetupException e = setupFails(List.of(
                new VirtualHostSpec("site", List.of("a.*.test"), ec.certificate(), ec.key(), List.of())));
        assertPart(e, TlsSetupException.Part.SERVER_NAMES, "site");
    }

    @Test
    void aDefaultVhostThatIsNotDefinedIsReported() {
        TlsSetupException e = setupFails(defaultSettings(), List.of(vhost("site", ec.certificate(), ec.key())), "nope");
        assertPart(e, TlsSetupException.Part.DEFAULT_VHOST, "nope");
    }

    // --- helpers

    private static void assertPart(TlsSetupException e, TlsSetupException.Part part, String vhost) {
        assertEquals(part, e.part(), e.getMessage());
        assertEquals(vhost, e.virtualHost(), e.getMessage());
    }

    private static void assertOpenSslReason(TlsSetupException e, String reason) {
        OpenSslException cause = assertInstanceOf(OpenSslException.class, e.getCause(), e.getMessage());
        assertTrue(cause.reasons().stream().anyMatch(r -> r.matches("error:[0-9A-F]{8}:.*:" + reason)),
                "expected OpenSSL's \"" + reason + "\" among " + cause.reasons());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    private static TlsSetupException setupFails(List<VirtualHostSpec> vhosts) {
        return setupFails(defaultSettings(), vhosts, vhosts.getFirst().name());
    }

    private static TlsSetupException setupFails(TlsSettings settings, List<VirtualHostSpec> vhosts, String defaultVhost) {
        long live = TlsConnection.liveCount();
        TlsSetupException e = assertThrows(TlsSetupException.class, () -> {
            TlsFrontend unexpected = new TlsFrontend(settings, vhosts, defaultVhost, TlsFrontend.UnknownServerName.USE_DEFAULT);
            unexpected.close();
        });
        assertEquals(live, TlsConnection.liveCount());
        return e;
    }

    private static VirtualHostSpec vhost(String name, Path certificate, Path key) {
        return new VirtualHostSpec(name, List.of(name + ".test"), certificate, key, List.of("http/1.1"));
    }

    private static TlsFrontend frontend(List<VirtualHostSpec> vhosts) {
        return new TlsFrontend(defaultSettings(), vhosts, vhosts.getFirst().name(), TlsFrontend.UnknownServerName.USE_DEFAULT);
    }

    private static TlsSettings defaultSettings() {
        return settings(s -> {});
    }

    /** pekko.hocon's defaults, with one thing changed. */
    private static TlsSettings settings(Consumer<MutableSettings> change) {
        MutableSettings s = new MutableSettings();
        change.accept(s);
        return new TlsSettings(TlsConstants.TLS1_2_VERSION, TlsConstants.TLS1_3_VERSION, s.ciphers, s.ciphersuites, s.groups,
                Duration.ofHours(2));
    }

    private static final class MutableSettings {
        String ciphers = TlsFrontendHandshakeTest.CIPHERS;
        String ciphersuites = TlsFrontendHandshakeTest.CIPHERSUITES;
        String groups = TlsFrontendHandshakeTest.GROUPS;
    }
}
