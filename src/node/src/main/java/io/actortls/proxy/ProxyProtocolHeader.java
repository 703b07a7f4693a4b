package io.actortls.proxy;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that tells a backend who the client
 * really is: the terminator sends it before the first plaintext byte, so the backend sees the client's address
 * instead of the terminator's, and with v2 also what the TLS handshake settled.
 *
 * <p><b>Address families.</b> Both endpoints go out in one family. When both are IPv4 (an IPv4-mapped IPv6
 * address, {@code ::ffff:a.b.c.d}, counts as IPv4) the header says TCP over IPv4; otherwise both are sent as IPv6,
 * an IPv4 endpoint as its IPv4-mapped form. This keeps both addresses where the spec's alternative for differing
 * families, {@code UNKNOWN}, would drop them (the spec reserves UNKNOWN for when the line cannot be filled
 * correctly, and some receivers refuse it). The v1 line writes IPv6 in the RFC 5952 form, all in hex groups, as
 * the spec asks (so a mapped address is {@code ::ffff:c000:201}, not {@code ::ffff:192.0.2.1}).
 */
public final class ProxyProtocolHeader {
    private ProxyProtocolHeader() {}

    public enum Version { V1, V2 }

    /** What the terminator knows about the client's TLS session, sent as v2 TLVs (null fields are left out). */
    public record TlsDetails(String alpn, String serverName, String protocol /* e.g. "TLSv1.3" */, String cipher) {}

    private static final byte[] V2_SIGNATURE =
            {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final int V2_FIXED_LENGTH = 16;
    /** Version 2 in the high nibble, command PROXY (the connection is relayed on behalf of a client) in the low. */
    private static final byte V2_VERSION_AND_PROXY_COMMAND = 0x21;
    private static final byte V2_TCP_OVER_IPV4 = 0x11;
    private static final byte V2_TCP_OVER_IPV6 = 0x21;
    private static final int MAX_V2_LENGTH_FIELD = 0xFFFF;

    private static final int PP2_TYPE_ALPN = 0x01;
    private static final int PP2_TYPE_AUTHORITY = 0x02;
    private static final int PP2_TYPE_SSL = 0x20;
    private static final int PP2_SUBTYPE_SSL_VERSION = 0x21;
    private static final int PP2_SUBTYPE_SSL_CIPHER = 0x23;
    /** The client connected over TLS; no client-certificate flags, since the terminator does not ask for one. */
    private static final int PP2_CLIENT_SSL = 0x01;
    /**
     * PP2_TYPE_SSL's verify field. The spec words it as "zero if the client presented a certificate and it was
     * verified"; HAProxy sends OpenSSL's verify result, which is also zero (X509_V_OK) when no certificate was
     * asked for, and receivers read it that way. The terminator asks no client for a certificate, so zero.
     */
    private static final int VERIFY_OK = 0;

    private static final int IPV4_BYTES = 4;
    private static final int IPV6_BYTES = 16;
    private static final byte[] IPV4_MAPPED_PREFIX = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF};

    /**
     * The header that precedes the first plaintext byte sent to the backend.
     *
     * @param client the client's address as the terminator accepted it
     * @param local  the terminator's address the client connected to
     * @param tls    sent with v2 only (v1 has no place for it); null sends no TLVs
     * @throws IllegalArgumentException if an address is unresolved, or a TLS field is too long for its TLV
     */
    public static byte[] encode(Version version, InetSocketAddress client, InetSocketAddress local, TlsDetails tls) {
        Objects.requireNonNull(version, "version");
        Endpoints endpoints = Endpoints.of(client, local);
        return switch (version) {
            case V1 -> v1(endpoints);
            case V2 -> v2(endpoints, tls);
        };
    }

    /** Both endpoints' raw addresses, in one family: 4 bytes each for IPv4, 16 each otherwise. */
    private record Endpoints(byte[] source, byte[] destination, int sourcePort, int destinationPort) {
        static Endpoints of(InetSocketAddress client, InetSocketAddress local) {
            byte[] source = rawAddress(Objects.requireNonNull(client, "client"));
            byte[] destination = rawAddress(Objects.requireNonNull(local, "local"));
            if (source.length != destination.length) {
                source = asIpv6(source);
                destination = asIpv6(destination);
            }
            return new Endpoints(source, destination, client.getPort(), local.getPort());
        }

        boolean ipv4() {
            return source.length == IPV4_BYTES;
        }
    }

    private static byte[] v1(Endpoints endpoints) {
        String line = "PROXY " + (endpoints.ipv4() ? "TCP4 " : "TCP6 ")
                + text(endpoints.source()) + " " + text(endpoints.destination()) + " "
                + endpoints.sourcePort() + " " + endpoints.destinationPort() + "\r\n";
        return line.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] v2(Endpoints endpoints, TlsDetails tls) {
        byte[] tlvs = tls == null ? new byte[0] : tlvs(tls);
        int addressLength = 2 * endpoints.source().length + 2 + 2;
        int length = addressLength + tlvs.length;
        if (length > MAX_V2_LENGTH_FIELD)
            throw new IllegalArgumentException("the TLS details make a PROXY v2 header of " + length
                    + " bytes after the fixed part; at most " + MAX_V2_LENGTH_FIELD + " fit its length field");
        return ByteBuffer.allocate(V2_FIXED_LENGTH + length) // big-endian, as the spec's network byte order
                .put(V2_SIGNATURE)
                .put(V2_VERSION_AND_PROXY_COMMAND)
                .put(endpoints.ipv4() ? V2_TCP_OVER_IPV4 : V2_TCP_OVER_IPV6)
                .putShort((short) length)
                .put(endpoints.source())
                .put(endpoints.destination())
                .putShort((short) endpoints.sourcePort())
                .putShort((short) endpoints.destinationPort())
                .put(tlvs)
                .array();
    }

    private static byte[] tlvs(TlsDetails tls) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (tls.alpn() != null) writeTlv(out, PP2_TYPE_ALPN, utf8(tls.alpn()));
        if (tls.serverName() != null) writeTlv(out, PP2_TYPE_AUTHORITY, utf8(tls.serverName()));
        ByteArrayOutputStream ssl = new ByteArrayOutputStream();
        ssl.write(PP2_CLIENT_SSL);
        ssl.writeBytes(ByteBuffer.allocate(Integer.BYTES).putInt(VERIFY_OK).array());
        if (tls.protocol() != null) writeTlv(ssl, PP2_SUBTYPE_SSL_VERSION, utf8(tls.protocol()));
        if (tls.cipher() != null) writeTlv(ssl, PP2_SUBTYPE_SSL_CIPHER, utf8(tls.cipher()));
        writeTlv(out, PP2_TYPE_SSL, ssl.toByteArray());
        return out.toByteArray();
    }

    private static void writeTlv(ByteArrayOutputStream out, int type, byte[] value) {
        if (value.length > MAX_V2_LENGTH_FIELD)
            throw new IllegalArgumentException("PROXY v2 TLV 0x" + Integer.toHexString(type) + " would hold "
                    + value.length + " bytes; at most " + MAX_V2_LENGTH_FIELD + " fit its length field");
        out.write(type);
        out.write(value.length >>> 8);
        out.write(value.length & 0xFF);
        out.writeBytes(value);
    }

    /**
     * UTF-8 for every string: the spec asks UTF-8 for the authority, and the ALPN, version and cipher names
     * OpenSSL reports are ASCII, for which UTF-8 is the same bytes.
     */
    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** 4 bytes for IPv4 (also when held as an IPv4-mapped IPv6 address), 16 for IPv6. */
    private static byte[] rawAddress(InetSocketAddress socketAddress) {
        InetAddress address = socketAddress.getAddress();
        if (address == null)
            throw new IllegalArgumentException("a PROXY header needs resolved addresses, not " + socketAddress);
        byte[] raw = address.getAddress();
        boolean ipv4Mapped = raw.length == IPV6_BYTES
                && Arrays.equals(raw, 0, IPV4_MAPPED_PREFIX.length, IPV4_MAPPED_PREFIX, 0, IPV4_MAPPED_PREFIX.length);
        return ipv4Mapped ? Arrays.copyOfRange(raw, IPV4_MAPPED_PREFIX.length, IPV6_BYTES) : raw;
    }

    private static byte[] asIpv6(byte[] raw) {
        if (raw.length == IPV6_BYTES) return raw;
        byte[] mapped = Arrays.copyOf(IPV4_MAPPED_PREFIX, IPV6_BYTES);
        System.arraycopy(raw, 0, mapped, IPV4_MAPPED_PREFIX.length, IPV4_BYTES);
        return mapped;
    }

    private static String text(byte[] raw) {
        return raw.length == IPV4_BYTES ? AddressText.ipv4(raw) : AddressText.ipv6(raw);
    }
}
