package io.actortls.proxy;

import static io.actortls.testkit.Bytes.ascii;
import static io.actortls.testkit.Bytes.concat;
import static io.actortls.testkit.Bytes.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.actortls.proxy.ProxyProtocolHeader.TlsDetails;
import io.actortls.proxy.ProxyProtocolHeader.Version;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link ProxyProtocolHeader#encode} byte for byte against HAProxy's proxy-protocol.txt: the v1 line, the v2
 * signature, command, family, big-endian lengths and ports, and the ALPN, AUTHORITY and SSL TLVs with their
 * sub-TLVs. The expected bytes are written out from the spec here, not computed by the code under test.
 */
class ProxyProtocolHeaderWritesTheSpecsBytesTest {
    private static final InetSocketAddress CLIENT_V4 = socket("192.0.2.10", 51234);
    private static final InetSocketAddress LOCAL_V4 = socket("198.51.100.7", 443);
    private static final byte[] SIGNATURE = hex("0d0a0d0a000d0a515549540a");
    private static final TlsDetails ALL_TLS = new TlsDetails("h2", "localhost", "TLSv1.3", "TLS_AES_128_GCM_SHA256");

    @Test
    void v1OverIpv4IsOneAsciiLineEndingInCrlf() {
        assertEquals("PROXY TCP4 192.0.2.10 198.51.100.7 51234 443\r\n",
                ascii(ProxyProtocolHeader.encode(Version.V1, CLIENT_V4, LOCAL_V4, null)));
    }

    @Test
    void v1OverIpv6WritesShortenedAddressesWithoutScope() throws Exception {
        InetAddress scoped = Inet6Address.getByAddress(null, InetAddress.getByName("fe80::1").getAddress(), 1);
        assertEquals("PROXY TCP6 fe80::1 ::1 51234 8443\r\n", ascii(ProxyProtocolHeader.encode(Version.V1,
                new InetSocketAddress(scoped, 51234), socket("::1", 8443), null)));
    }

    @Test
    void v1CarriesNoTlsDetails() {
        assertArrayEquals(ProxyProtocolHeader.encode(Version.V1, CLIENT_V4, LOCAL_V4, null),
                ProxyProtocolHeader.encode(Version.V1, CLIENT_V4, LOCAL_V4, ALL_TLS));
    }

    @Test
    void v1LongestLineIsTheSpecs104Bytes() {
        InetSocketAddress full = socket("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
        byte[] line = ProxyProtocolHeader.encode(Version.V1, full, full, null);
        assertEquals(104, line.length, ascii(line));
    }

    @Test
    void mixedFamiliesAreSentAsIpv6WithTheIpv4AddressMapped() {
        InetSocketAddress local = socket("2001:db8::1", 443);
        assertEquals("PROXY TCP6 ::ffff:c000:20a 2001:db8::1 51234 443\r\n",
                ascii(ProxyProtocolHeader.encode(Version.V1, CLIENT_V4, local, null)));
        assertArrayEquals(concat(SIGNATURE, hex("21 21 0024"),
                        hex("00000000 00000000 0000ffff c000020a"), hex("20010db8 00000000 00000000 00000001"),
                        hex("c822 01bb")),
                ProxyProtocolHeader.encode(Version.V2, CLIENT_V4, local, null));
    }

    @Test
    void ipv4MappedAddressesOnBothEndsAreSentAsIpv4() throws Exception {
        InetSocketAddress client = new InetSocketAddress(
                Inet6Address.getByAddress(null, hex("00000000000000000000ffffc000020a"), -1), 51234);
        InetSocketAddress local = new InetSocketAddress(
                Inet6Address.getByAddress(null, hex("00000000000000000000ffffc6336407"), -1), 443);
        assertEquals("PROXY TCP4 192.0.2.10 198.51.100.7 51234 443\r\n",
                ascii(ProxyProtocolHeader.encode(Version.V1, client, local, null)));
    }

    @Test
    void v2OverIpv4WithoutTlsIsSixteenBytesAndTwelveOfAddresses() {
        assertArrayEquals(concat(SIGNATURE,
                        hex("21"),             // version 2, command PROXY
                        hex("11"),             // TCP over IPv4
                        hex("000c"),           // 12 bytes follow
                        hex("c000020a c6336407"), hex("c822 01bb")),
                ProxyProtocolHeader.encode(Version.V2, CLIENT_V4, LOCAL_V4, null));
    }

    @Test
    void v2OverIpv6WithEveryTlsDetailAsTlvs() {
        byte[] ssl = concat(hex("01 00000000"),                 // PP2_CLIENT_SSL, verify 0
                hex("21 0007"), ascii("TLSv1.3"),               // PP2_SUBTYPE_SSL_VERSION
                hex("23 0016"), ascii("TLS_AES_128_GCM_SHA256")); // PP2_SUBTYPE_SSL_CIPHER
        byte[] expected = concat(SIGNATURE, hex("21 21 0060"),
                hex("00000000 00000000 00000000 00000001"), hex("00000000 00000000 00000000 00000001"),
                hex("ffff 20fb"),
                hex("01 0002"), ascii("h2"),                    // PP2_TYPE_ALPN
                hex("02 0009"), ascii("localhost"),             // PP2_TYPE_AUTHORITY
                hex("20 0028"), ssl);                           // PP2_TYPE_SSL
        assertEquals(16 + 0x60, expected.length);
        assertArrayEquals(expected, ProxyProtocolHeader.encode(Version.V2, socket("::1", 65535), socket("::1", 8443), ALL_TLS));
    }

    @Test
    void v2LeavesOutNullTlsFieldsButStillSaysTheClientUsedTls() {
        assertArrayEquals(concat(SIGNATURE, hex("21 11 0014"), hex("c000020a c6336407 c822 01bb"),
                        hex("20 0005 01 00000000")),
                ProxyProtocolHeader.encode(Version.V2, CLIENT_V4, LOCAL_V4, new TlsDetails(null, null, null, null)));
        assertArrayEquals(concat(SIGNATURE, hex("21 11 0023"), hex("c000020a c6336407 c822 01bb"),
                        hex("02 0009"), ascii("localhost"), hex("20 0008 01 00000000 23 0000")),
                ProxyProtocolHeader.encode(Version.V2, CLIENT_V4, LOCAL_V4, new TlsDetails(null, "localhost", null, "")));
    }

    @Test
    void v2RefusesDetailsTooLongForItsLengthFields() {
        String tooLong = "a".repeat(0x10000);
        assertThrows(IllegalArgumentException.class, () -> ProxyProtocolHeader.encode(Version.V2, CLIENT_V4, LOCAL_V4,
                new TlsDetails(null, tooLong, null, null)));
        String half = "a".repeat(0x8000);
        assertThrows(IllegalArgumentException.class, () -> ProxyProtocolHeader.encode(Version.V2, CLIENT_V4, LOCAL_V4,
                new TlsDetails(half, half, null, null)));
    }

    @Test
    void unresolvedAddressesAreRefused() {
        InetSocketAddress unresolved = InetSocketAddress.createUnresolved("client.example", 51234);
        for (Version version : Version.values())
            assertThrows(IllegalArgumentException.class, () -> ProxyProtocolHeader.encode(version, unresolved, LOCAL_V4, null));
    }

    @ParameterizedTest
    @CsvSource({
            "2001:0db8:0000:0000:0000:0000:0000:0001, 2001:db8::1",
            "2001:db8:0:0:1:0:0:1,                   2001:db8::1:0:0:1", // equal runs: the first is shortened
            "0:0:1:0:0:0:1:0,                        0:0:1::1:0",       // the longest run is shortened
            "2001:db8:0:1:1:1:1:1,                   2001:db8:0:1:1:1:1:1", // never a single zero group
            "0:0:0:0:0:0:0:0,                        ::",
            "1:0:0:0:0:0:0:0,                        1::",
            "ABCD:EF01:2345:6789:ABCD:EF01:2345:6789, abcd:ef01:2345:6789:abcd:ef01:2345:6789",
    })
    void ipv6TextIsRfc5952(String address, String canonical) throws Exception {
        assertEquals(canonical, AddressText.canonical(InetAddress.getByName(address)));
    }

    private static InetSocketAddress socket(String literal, int port) {
        return new InetSocketAddress(InetAddress.ofLiteral(literal), port);
    }




}
