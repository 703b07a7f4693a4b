package io.actortls.proxy;

import static io.actortls.testkit.Bytes.ascii;
import static io.actortls.testkit.Bytes.concat;
import static io.actortls.testkit.Bytes.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.demo.DemoBackend;
import io.actortls.proxy.ProxyProtocolHeader.TlsDetails;
import io.actortls.proxy.ProxyProtocolHeader.Version;
import io.actortls.testkit.PlainHttpConnection;
import io.actortls.testkit.Tools;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The demo backend started with PROXY protocol support reads what {@link ProxyProtocolHeader#encode} writes, v1 and
 * v2, IPv4 and IPv6, and answers {@code GET /proxy} with every field it carried; a malformed header closes the
 * connection without an answer and logs one line to stderr. Real sockets to a backend in this JVM.
 */
class DemoBackendParsesProxyProtocolHeadersTest {
    private static final String NAME = "pp-backend";
    private static final InetSocketAddress CLIENT_V4 = socket("192.0.2.10", 51234);
    private static final InetSocketAddress LOCAL_V4 = socket("198.51.100.7", 443);
    private static final InetSocketAddress CLIENT_V6 = socket("::1", 40001);
    private static final InetSocketAddress LOCAL_V6 = socket("::1", 8443);
    private static final TlsDetails ALL_TLS = new TlsDetails("http/1.1", "rsa.localhost", "TLSv1.3", "TLS_AES_256_GCM_SHA384");
    private static final byte[] V2_SIGNATURE = hex("0d0a0d0a000d0a515549540a");
    /** The spec's advice, which the backend follows: a started header must be complete within 3 s. */
    private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration LOG_BOUND = Duration.ofSeconds(5);

    static DemoBackend backend;
    static PrintStream originalStderr;
    static final List<String> stderrLines = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        originalStderr = System.err;
        System.setErr(new PrintStream(new LineRecorder(originalStderr), true, StandardCharsets.UTF_8));
        backend = DemoBackend.serve(Tools.freePort(), NAME, true);
    }

    @AfterAll
    static void stop() {
        if (backend != null) backend.close();
        System.setErr(originalStderr);
    }

    static Stream<Arguments> headersAndTheFieldsTheBackendReports() {
        return Stream.of(
                Arguments.of(Version.V1, CLIENT_V4, LOCAL_V4, null, List.of(
                        "version=1", "source=192.0.2.10:51234", "destination=198.51.100.7:443")),
                Arguments.of(Version.V1, CLIENT_V6, LOCAL_V6, ALL_TLS, List.of(
                        "version=1", "source=[::1]:40001", "destination=[::1]:8443")),
                Arguments.of(Version.V1, CLIENT_V4, LOCAL_V6, null, List.of(
                        "version=1", "source=[::ffff:c000:20a]:51234", "destination=[::1]:8443")),
                Arguments.of(Version.V2, CLIENT_V4, LOCAL_V4, null, List.of(
                        "version=2", "source=192.0.2.10:51234", "destination=198.51.100.7:443")),
                Arguments.of(Version.V2, CLIENT_V4, LOCAL_V4, ALL_TLS, List.of(
                        "version=2", "source=192.0.2.10:51234", "destination=198.51.100.7:443", "alpn=http/1.1",
                        "authority=rsa.localhost", "ssl-version=TLSv1.3", "ssl-cipher=TLS_AES_256_GCM_SHA384")),
                Arguments.of(Version.V2, CLIENT_V6, LOCAL_V6, ALL_TLS, List.of(
                        "version=2", "source=[::1]:40001", "destination=[::1]:8443", "alpn=http/1.1",
                        "authority=rsa.localhost", "ssl-version=TLSv1.3", "ssl-cipher=TLS_AES_256_GCM_SHA384")),
                Arguments.of(Version.V2, socket("2001:db8::7", 65535), LOCAL_V4, new TlsDetails(null, "localhost", "TLSv1.2", null),
                        List.of("version=2", "source=[2001:db8::7]:65535", "destination=[::ffff:c633:6407]:443",
                                "authority=localhost", "ssl-version=TLSv1.2")));
    }

    @ParameterizedTest
    @MethodSource("headersAndTheFieldsTheBackendReports")
    void everyFieldRoundTrips(Version version, InetSocketAddress client, InetSocketAddress local, TlsDetails tls,
                              List<String> expected) throws IOException {
        assertEquals(expected, proxyFieldsAfter(ProxyProtocolHeader.encode(version, client, local, tls)).lines().toList());
    }

    @ParameterizedTest
    @EnumSource(Version.class)
    void theHeaderHoldsForEveryRequestOnItsConnection(Version version) throws IOException {
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            connection.write(ProxyProtocolHeader.encode(version, CLIENT_V4, LOCAL_V4, null)).get("/proxy");
            String first = connection.readResponse().body();
            connection.get("/proxy");
            assertEquals(first, connection.readResponse().body());
            assertTrue(first.startsWith("version=" + (version == Version.V1 ? 1 : 2) + "\nsource=192.0.2.10:51234\n"), first);
        }
    }

    @Test
    void aConnectionWithoutHeaderIsServedAndSaysSo() throws IOException {
        assertEquals("version=none\n", proxyFieldsAfter(new byte[0]));
    }

    @Test
    void v1UnknownAndV2LocalCarryNoAddresses() throws IOException {
        assertEquals("version=1\n", proxyFieldsAfter(ascii("PROXY UNKNOWN\r\n")));
        assertEquals("version=1\n", proxyFieldsAfter(ascii("PROXY UNKNOWN ffff:f::f ffff:f::f 65535 65535\r\n")));
        assertEquals("version=2\n", proxyFieldsAfter(concat(V2_SIGNATURE, hex("20 00 0000"))));
    }

    @Test
    void v1AcceptsTheLongestLineAndTheDottedIpv4MappedForm() throws IOException {
        String full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
        String longest = "PROXY UNKNOWN " + full + " " + full + " 65535 65535\r\n";
        assertEquals(107, longest.length());
        assertEquals("version=1\n", proxyFieldsAfter(ascii(longest)));
        assertEquals("version=1\nsource=[::ffff:c000:20a]:1\ndestination=[2001:db8::1]:0\n",
                proxyFieldsAfter(ascii("PROXY TCP6 ::ffff:192.0.2.10 2001:db8::1 1 0\r\n")));
    }

    @Test
    void v2SkipsTlvsItDoesNotReadAndEscapesControlCharacters() throws IOException {
        byte[] tlvs = concat(hex("04 0003 000000"),                 // PP2_TYPE_NOOP
                hex("02 0004"), ascii("a\nb%"),                     // AUTHORITY with a line feed and a percent sign
                hex("e0 0001 ff"));                                 // an application-specific type
        byte[] header = concat(V2_SIGNATURE, hex("21 11"), length(12 + tlvs.length), hex("c000020a c6336407 c822 01bb"), tlvs);
        assertEquals("version=2\nsource=192.0.2.10:51234\ndestination=198.51.100.7:443\nauthority=a%0Ab%25\n",
                proxyFieldsAfter(header));
    }

    static Stream<Arguments> malformedHeaders() {
        byte[] v2Ipv4 = ProxyProtocolHeader.encode(Version.V2, CLIENT_V4, LOCAL_V4, null);
        byte[] v2WithTls = ProxyProtocolHeader.encode(Version.V2, CLIENT_V4, LOCAL_V4, ALL_TLS);
        byte[] badSignature = v2Ipv4.clone();
        badSignature[7] = 'q';
        String addresses = "c000020a c6336407 c822 01bb";
        return Stream.of(
                Arguments.of("a v2 signature with a wrong byte", badSignature, "not the v2 signature"),
                Arguments.of("a v2 header cut inside its addresses", Arrays.copyOf(v2Ipv4, 20), "cut short"),
                Arguments.of("a v2 header cut inside its TLVs", Arrays.copyOf(v2WithTls, v2WithTls.length - 1), "cut short"),
                Arguments.of("a v2 signature cut short", Arrays.copyOf(V2_SIGNATURE, 7), "cut short"),
                Arguments.of("v2 with version 1", concat(V2_SIGNATURE, hex("11 11 000c"), hex(addresses)), "version 1"),
                Arguments.of("v2 with command 2", concat(V2_SIGNATURE, hex("22 11 000c"), hex(addresses)), "command 2"),
                Arguments.of("v2 with family 4", concat(V2_SIGNATURE, hex("21 41 000c"), hex(addresses)), "family"),
                Arguments.of("v2 with transport 3", concat(V2_SIGNATURE, hex("21 13 000c"), hex(addresses)), "family"),
                Arguments.of("v2 length shorter than IPv6 addresses", concat(V2_SIGNATURE, hex("21 21 000c"), hex(addresses)),
                        "addresses need 36"),
                Arguments.of("a v2 TLV longer than what is left", concat(V2_SIGNATURE, hex("21 11 0010"), hex(addresses),
                        hex("02 0002 61")), "says 2 bytes"),
                Arguments.of("a v2 TLV header cut short", concat(V2_SIGNATURE, hex("21 11 000e"), hex(addresses), hex("02 00")),
                        "cut short"),
                Arguments.of("a v2 SSL TLV without its verify field", concat(V2_SIGNATURE, hex("21 11 0010"), hex(addresses),
                        hex("20 0001 01")), "SSL TLV of 1 bytes"),
                Arguments.of("a v2 SSL sub-TLV longer than its TLV", concat(V2_SIGNATURE, hex("21 11 0017"), hex(addresses),
                        hex("20 0008 01 00000000 21 0009")), "says 9 bytes"),
                Arguments.of("a v2 TLV given twice", concat(V2_SIGNATURE, hex("21 11 0016"), hex(addresses),
                        hex("02 0002 6161 02 0002 6262")), "given twice"),
                Arguments.of("v1 ending in LF without CR", ascii("PROXY TCP4 192.0.2.10 198.51.100.7 51234 443\n"), "LF without CR"),
                Arguments.of("v1 with a CR without LF", ascii("PROXY TCP4 192.0.2.10 198.51.100.7 51234 443\rGET"), "CR without LF"),
                Arguments.of("v1 cut short before its CRLF", ascii("PROXY TCP4 192.0.2.10 198.51.100.7 51234 443"), "cut short"),
                Arguments.of("v1 without CRLF in 107 bytes", ascii("PROXY UNKNOWN " + "f".repeat(200) + "\r\n"), "107"),
                Arguments.of("v1 of 108 bytes", ascii("PROXY UNKNOWN " + "f".repeat(92) + "\r\n"), "107"),
                Arguments.of("v1 with protocol TCP5", ascii("PROXY TCP5 192.0.2.10 198.51.100.7 51234 443\r\n"), "protocol"),
                Arguments.of("v1 with two spaces", ascii("PROXY TCP4  192.0.2.10 198.51.100.7 51234 443\r\n"), "not \"PROXY"),
                Arguments.of("v1 without the ports", ascii("PROXY TCP4 192.0.2.10 198.51.100.7\r\n"), "not \"PROXY"),
                Arguments.of("v1 with a leading zero in an address", ascii("PROXY TCP4 192.0.2.010 198.51.100.7 51234 443\r\n"), "IPv4"),
                Arguments.of("v1 with an address octet over 255", ascii("PROXY TCP4 192.0.2.256 198.51.100.7 51234 443\r\n"), "IPv4"),
                Arguments.of("v1 TCP4 with an IPv6 address", ascii("PROXY TCP4 ::1 198.51.100.7 51234 443\r\n"), "IPv4"),
                Arguments.of("v1 TCP6 with an IPv4 address", ascii("PROXY TCP6 ::1 198.51.100.7 51234 443\r\n"), "IPv6"),
                Arguments.of("v1 TCP6 with two gaps", ascii("PROXY TCP6 1::2::3 ::1 51234 443\r\n"), "IPv6"),
                Arguments.of("v1 TCP6 with nine groups", ascii("PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 51234 443\r\n"), "IPv6"),
                Arguments.of("v1 TCP6 with a five-digit group", ascii("PROXY TCP6 12345::1 ::1 51234 443\r\n"), "IPv6"),
                Arguments.of("v1 with port 65536", ascii("PROXY TCP4 192.0.2.10 198.51.100.7 65536 443\r\n"), "port"),
                Arguments.of("v1 with a leading zero in a port", ascii("PROXY TCP4 192.0.2.10 198.51.100.7 051234 443\r\n"), "port"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedHeaders")
    void aMalformedHeaderClosesTheConnectionAndLogsOneLine(String what, byte[] header, String reason) throws Exception {
        int before = stderrLines.size();
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            connection.write(header);
            connection.finishWriting(); // a header cut short is then told by end of stream, not by the 3 s timeout
            byte[] answer = connection.readUntilClosed();
            assertEquals("", new String(answer, StandardCharsets.ISO_8859_1), what + ": nothing is answered");
        }
        assertOneLogLine(before, reason);
    }

    @Test
    void aHeaderThatStopsHalfWayIsDroppedAfterTheHeaderTimeout() throws Exception {
        int before = stderrLines.size();
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            byte[] header = ProxyProtocolHeader.encode(Version.V2, CLIENT_V6, LOCAL_V6, ALL_TLS);
            long start = System.nanoTime();
            connection.write(Arrays.copyOf(header, header.length / 2));
            assertEquals(0, connection.readUntilClosed().length);
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertTrue(took.compareTo(HEADER_TIMEOUT.minusMillis(200)) > 0 && took.compareTo(HEADER_TIMEOUT.plusSeconds(3)) < 0,
                    "closed after " + took.toMillis() + " ms");
        }
        assertOneLogLine(before, "incomplete after 3 s");
    }

    /** The body of {@code GET /proxy} sent right after {@code header} on a new connection. */
    private static String proxyFieldsAfter(byte[] header) throws IOException {
        try (PlainHttpConnection connection = PlainHttpConnection.open(backend.port())) {
            PlainHttpConnection.Response response = connection.write(header).get("/proxy").readResponse();
            assertEquals(200, response.status(), response.body());
            return response.body();
        }
    }

    /**
     * Exactly one new stderr line, naming the reason. The backend logs before it closes, except when its header
     * timeout closes first; so wait a bounded time for the line to appear.
     */
    private static void assertOneLogLine(int before, String reason) throws InterruptedException {
        long deadline = System.nanoTime() + LOG_BOUND.toNanos();
        while (stderrLines.size() == before && System.nanoTime() < deadline) Thread.sleep(10);
        List<String> logged = List.copyOf(stderrLines.subList(before, stderrLines.size()));
        assertEquals(1, logged.size(), "one line on stderr: " + logged);
        assertTrue(logged.getFirst().startsWith("demo backend " + NAME + ": closing 127.0.0.1:"), logged.getFirst());
        assertTrue(logged.getFirst().contains("malformed PROXY header: ") && logged.getFirst().contains(reason),
                "expected the reason '" + reason + "' in: " + logged.getFirst());
    }

    /** Passes stderr through and keeps each line, so tests can count what the backend logged. */
    private static final class LineRecorder extends OutputStream {
        private final PrintStream passThrough;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        LineRecorder(PrintStream passThrough) {
            this.passThrough = passThrough;
        }

        @Override
        public synchronized void write(int b) {
            passThrough.write(b);
            if (b == '\n') {
                stderrLines.add(line.toString(StandardCharsets.UTF_8));
                line.reset();
            } else {
                line.write(b);
            }
        }
    }

    private static InetSocketAddress socket(String literal, int port) {
        return new InetSocketAddress(InetAddress.ofLiteral(literal), port);
    }



    private static byte[] length(int length) {
        return new byte[] {(byte) (length >>> 8), (byte) length};
    }

}
