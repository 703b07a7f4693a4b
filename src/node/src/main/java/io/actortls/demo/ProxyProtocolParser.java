package io.actortls.demo;

import io.actortls.proxy.AddressText;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads the PROXY protocol header (HAProxy's proxy-protocol.txt, v1 and v2) a connection to the demo backend may
 * start with, strictly: anything that does not match the spec exactly is a {@link MalformedHeaderException}, and
 * the caller drops the connection, as the spec asks.
 *
 * <p>Whether a header is there is decided by the first bytes: {@code PROXY} starts a v1 line, a CR (the first
 * byte of the v2 signature, and never the first byte of an HTTP request the demo backend accepts) starts a v2
 * header. The spec tells receivers not to guess, so that untrusted clients cannot claim other addresses; the demo
 * backend listens on 127.0.0.1 only and guesses so that it can serve the node and curl on the same port.
 *
 * <p>Written independently of {@link io.actortls.proxy.ProxyProtocolHeader} (nothing shared but the address
 * text), so that a test sending that encoder's bytes here checks both against the spec, not against each other.
 */
final class ProxyProtocolParser {
    private ProxyProtocolParser() {}

    /** What one header said. Addresses are null for v1 UNKNOWN, v2 LOCAL and v2 non-TCP families, TLV fields when absent. */
    record Header(int version, InetSocketAddress source, InetSocketAddress destination,
                  String alpn, String authority, String sslVersion, String sslCipher) {
        /** {@code name=value} lines in a fixed order, present fields only; control characters %-escaped. */
        List<String> fields() {
            List<String> lines = new ArrayList<>();
            lines.add("version=" + version);
            if (source != null) lines.add("source=" + AddressText.withPort(source));
            if (destination != null) lines.add("destination=" + AddressText.withPort(destination));
            if (alpn != null) lines.add("alpn=" + printable(alpn));
            if (authority != null) lines.add("authority=" + printable(authority));
            if (sslVersion != null) lines.add("ssl-version=" + printable(sslVersion));
            if (sslCipher != null) lines.add("ssl-cipher=" + printable(sslCipher));
            return lines;
        }

        /** TLV values come from the client's side; escaping keeps each field on its own line. */
        private static String printable(String value) {
            StringBuilder text = new StringBuilder(value.length());
            value.chars().forEach(c -> {
                if (c < 0x20 || c == 0x7F || c == '%') text.append('%').append("%02X".formatted(c));
                else text.append((char) c);
            });
            return text.toString();
        }
    }

    /** The connection began a PROXY header that does not match the spec, or ended inside it. */
    static final class MalformedHeaderException extends IOException {
        MalformedHeaderException(String reason) {
            super(reason);
        }
    }

    private static final byte[] V1_PREFIX = "PROXY".getBytes(StandardCharsets.US_ASCII);
    /** The spec's longest line, "PROXY UNKNOWN" with two full IPv6 addresses and ports, CRLF included. */
    private static final int V1_MAX_LENGTH = 107;
    private static final byte[] V2_SIGNATURE =
            {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final int V2_VERSION = 0x2;
    private static final int V2_COMMAND_LOCAL = 0x0;
    private static final int V2_COMMAND_PROXY = 0x1;
    private static final int V2_TCP_OVER_IPV4 = 0x11;
    private static final int V2_TCP_OVER_IPV6 = 0x21;
    /** Every family and transport byte the spec defines, with the length of its address block. */
    private static final Map<Integer, Integer> V2_ADDRESS_LENGTHS = Map.of(
            0x00, 0,                           // UNSPEC
            V2_TCP_OVER_IPV4, 12, 0x12, 12,    // TCP, UDP over IPv4: two 4-byte addresses, two ports
            V2_TCP_OVER_IPV6, 36, 0x22, 36,    // TCP, UDP over IPv6: two 16-byte addresses, two ports
            0x31, 216, 0x32, 216);             // UNIX stream, datagram: two 108-byte paths
    private static final int TLV_HEADER_LENGTH = 3;
    private static final int PP2_TYPE_ALPN = 0x01;
    private static final int PP2_TYPE_AUTHORITY = 0x02;
    private static final int PP2_TYPE_SSL = 0x20;
    private static final int PP2_SUBTYPE_SSL_VERSION = 0x21;
    private static final int PP2_SUBTYPE_SSL_CIPHER = 0x23;
    /** PP2_TYPE_SSL's value starts with a client flags byte and a 32-bit verify result, then its sub-TLVs. */
    private static final int SSL_TLV_FIXED_LENGTH = 5;

    private static final Pattern IPV4 = Pattern.compile("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}");
    private static final Pattern IPV6_GROUP = Pattern.compile("[0-9A-Fa-f]{1,4}");
    private static final Pattern PORT = Pattern.compile("0|[1-9][0-9]{0,4}");

    /**
     * Reads the header if the stream starts with one, and nothing after it; otherwise reads nothing (the stream is
     * reset to where it was) and returns empty.
     */
    static Optional<Header> readIfPresent(BufferedInputStream in) throws IOException {
        in.mark(V2_SIGNATURE.length);
        if (startsWith(in, V1_PREFIX)) return Optional.of(readV1(in));
        in.reset();
        int first = in.read();
        in.reset();
        if (first == V2_SIGNATURE[0]) {
            byte[] signature = in.readNBytes(V2_SIGNATURE.length);
            if (!Arrays.equals(signature, V2_SIGNATURE))
                throw new MalformedHeaderException(signature.length < V2_SIGNATURE.length
                        ? "v2 signature cut short after " + signature.length + " bytes" : "not the v2 signature");
            return Optional.of(readV2(in));
        }
        return Optional.empty();
    }

    /** Whether the next bytes are {@code prefix}; stops at the first byte that differs, so it never waits for more. */
    private static boolean startsWith(BufferedInputStream in, byte[] prefix) throws IOException {
        for (byte expected : prefix) {
            if (in.read() != (expected & 0xFF)) return false;
        }
        return true;
    }

    private static Header readV1(BufferedInputStream in) throws IOException {
        StringBuilder rest = new StringBuilder(V1_MAX_LENGTH);
        for (int length = V1_PREFIX.length; ; ) {
            int b = in.read();
            if (b == -1) throw new MalformedHeaderException("v1 line cut short before its CRLF");
            if (++length > V1_MAX_LENGTH) throw new MalformedHeaderException("v1 line without CRLF in its first 107 bytes");
            if (b == '\n') throw new MalformedHeaderException("v1 line ends in LF without CR");
            if (b == '\r') {
                if (in.read() != '\n') throw new MalformedHeaderException("v1 line has a CR without LF");
                if (length + 1 > V1_MAX_LENGTH) throw new MalformedHeaderException("v1 line longer than 107 bytes");
                break;
            }
            rest.append((char) b);
        }
        return parseV1(rest.toString());
    }

    /** {@code rest} is what follows "PROXY" up to the CRLF, e.g. {@code " TCP4 192.0.2.1 192.0.2.2 5000 443"}. */
    private static Header parseV1(String rest) throws MalformedHeaderException {
        // The spec lets a sender cut an UNKNOWN line short and tells receivers to ignore whatever follows the word.
        if (rest.equals(" UNKNOWN") || rest.startsWith(" UNKNOWN ")) return new Header(1, null, null, null, null, null, null);
        String[] words = rest.split(" ", -1);
        if (words.length != 6 || !words[0].isEmpty())
            throw new MalformedHeaderException("v1 line is not \"PROXY TCP4|TCP6 SRC DST SPORT DPORT\"");
        boolean ipv4 = switch (words[1]) {
            case "TCP4" -> true;
            case "TCP6" -> false;
            default -> throw new MalformedHeaderException("v1 protocol is not TCP4, TCP6 or UNKNOWN");
        };
        InetAddress source = ipv4 ? v1Ipv4(words[2]) : v1Ipv6(words[2]);
        InetAddress destination = ipv4 ? v1Ipv4(words[3]) : v1Ipv6(words[3]);
        return new Header(1, new InetSocketAddress(source, v1Port(words[4])),
                new InetSocketAddress(destination, v1Port(words[5])), null, null, null, null);
    }

    /** Four decimal numbers 0-255 without leading zeros (the spec forbids them: they might be read as octal). */
    private static InetAddress v1Ipv4(String text) throws MalformedHeaderException {
        if (!IPV4.matcher(text).matches()) throw new MalformedHeaderException("not an IPv4 address: " + text);
        byte[] raw = new byte[4];
        String[] parts = text.split("\\.");
        for (int i = 0; i < raw.length; i++) {
            int value = Integer.parseInt(parts[i]);
            if (value > 255) throw new MalformedHeaderException("not an IPv4 address: " + text);
            raw[i] = (byte) value;
        }
        return address(raw);
    }

    /**
     * Hex groups of 1-4 digits separated by colons, at most one {@code ::}, exactly 128 bits. The last 32 bits may
     * also be a dotted IPv4 address (RFC 4291 2.2), as inet_ntop writes IPv4-mapped addresses and so HAProxy sends
     * them, although the PROXY spec only shows hex groups.
     */
    private static InetAddress v1Ipv6(String text) throws MalformedHeaderException {
        String hex = text;
        byte[] dottedTail = new byte[0];
        if (text.indexOf('.') >= 0) {
            int lastColon = text.lastIndexOf(':');
            if (lastColon < 0) throw new MalformedHeaderException("not an IPv6 address: " + text);
            dottedTail = v1Ipv4(text.substring(lastColon + 1)).getAddress();
            hex = text.substring(0, lastColon + 1);
            if (!hex.endsWith("::")) hex = hex.substring(0, lastColon);
        }
        int groupsWanted = (16 - dottedTail.length) / 2;
        int gap = hex.indexOf("::");
        if (gap != hex.lastIndexOf("::") || hex.contains(":::"))
            throw new MalformedHeaderException("not an IPv6 address: " + text);
        List<String> head = ipv6Groups(gap < 0 ? hex : hex.substring(0, gap), text);
        List<String> tail = gap < 0 ? List.of() : ipv6Groups(hex.substring(gap + 2), text);
        int groups = head.size() + tail.size();
        if (gap < 0 ? groups != groupsWanted : groups >= groupsWanted)
            throw new MalformedHeaderException("not an IPv6 address: " + text);
        ByteBuffer raw = ByteBuffer.allocate(16);
        for (String group : head) raw.putShort((short) Integer.parseInt(group, 16));
        raw.position(16 - dottedTail.length - 2 * tail.size());
        for (String group : tail) raw.putShort((short) Integer.parseInt(group, 16));
        return address(raw.put(dottedTail).array());
    }

    private static List<String> ipv6Groups(String part, String whole) throws MalformedHeaderException {
        if (part.isEmpty()) return List.of();
        List<String> groups = List.of(part.split(":", -1));
        for (String group : groups)
            if (!IPV6_GROUP.matcher(group).matches()) throw new MalformedHeaderException("not an IPv6 address: " + whole);
        return groups;
    }

    private static int v1Port(String text) throws MalformedHeaderException {
        if (!PORT.matcher(text).matches() || Integer.parseInt(text) > 0xFFFF)
            throw new MalformedHeaderException("not a port: " + text);
        return Integer.parseInt(text);
    }

    /** After the signature: version and command, family and transport, length, then that many bytes. */
    private static Header readV2(BufferedInputStream in) throws IOException {
        byte[] fixed = in.readNBytes(4);
        if (fixed.length < 4) throw new MalformedHeaderException("v2 header cut short after the signature");
        int version = (fixed[0] & 0xF0) >>> 4;
        int command = fixed[0] & 0x0F;
        int family = fixed[1] & 0xFF;
        int length = ((fixed[2] & 0xFF) << 8) | (fixed[3] & 0xFF);
        if (version != V2_VERSION) throw new MalformedHeaderException("v2 header with version " + version);
        if (command != V2_COMMAND_LOCAL && command != V2_COMMAND_PROXY)
            throw new MalformedHeaderException("v2 header with command " + command);
        Integer addressLength = V2_ADDRESS_LENGTHS.get(family);
        if (addressLength == null)
            throw new MalformedHeaderException("v2 header with family and transport 0x%02x".formatted(family));
        ByteBuffer block = ByteBuffer.wrap(in.readNBytes(length));
        if (block.remaining() < length)
            throw new MalformedHeaderException("v2 header cut short: " + block.remaining() + " of " + length + " bytes");
        // LOCAL: the sender's own connection (a health check); the spec says to discard the block, family and all.
        if (command == V2_COMMAND_LOCAL) return new Header(2, null, null, null, null, null, null);
        if (length < addressLength)
            throw new MalformedHeaderException("v2 addresses need " + addressLength + " bytes, the header has " + length);
        InetSocketAddress source = null;
        InetSocketAddress destination = null;
        if (family == V2_TCP_OVER_IPV4 || family == V2_TCP_OVER_IPV6) {
            byte[] sourceAddress = new byte[family == V2_TCP_OVER_IPV4 ? 4 : 16];
            byte[] destinationAddress = new byte[sourceAddress.length];
            block.get(sourceAddress).get(destinationAddress);
            source = new InetSocketAddress(address(sourceAddress), Short.toUnsignedInt(block.getShort()));
            destination = new InetSocketAddress(address(destinationAddress), Short.toUnsignedInt(block.getShort()));
        } else {
            // The spec lets a receiver treat families it does not implement as UNSPEC: skip their addresses.
            block.position(addressLength);
        }
        Map<Integer, byte[]> tlvs = tlvs(block, "TLV");
        Map<Integer, byte[]> ssl = Map.of();
        byte[] sslValue = tlvs.get(PP2_TYPE_SSL);
        if (sslValue != null) {
            if (sslValue.length < SSL_TLV_FIXED_LENGTH)
                throw new MalformedHeaderException("v2 SSL TLV of " + sslValue.length + " bytes, less than its fixed "
                        + SSL_TLV_FIXED_LENGTH);
            ssl = tlvs(ByteBuffer.wrap(sslValue).position(SSL_TLV_FIXED_LENGTH), "SSL sub-TLV");
        }
        return new Header(2, source, destination, text(tlvs.get(PP2_TYPE_ALPN)), text(tlvs.get(PP2_TYPE_AUTHORITY)),
                text(ssl.get(PP2_SUBTYPE_SSL_VERSION)), text(ssl.get(PP2_SUBTYPE_SSL_CIPHER)));
    }

    /**
     * The type-length-value entries filling the rest of {@code block}. Types this parser does not read are skipped,
     * as the spec allows; a type given twice is malformed, since either value could be the one meant.
     */
    private static Map<Integer, byte[]> tlvs(ByteBuffer block, String what) throws MalformedHeaderException {
        Map<Integer, byte[]> values = new HashMap<>();
        while (block.hasRemaining()) {
            if (block.remaining() < TLV_HEADER_LENGTH)
                throw new MalformedHeaderException("v2 " + what + " cut short: " + block.remaining() + " bytes left");
            int type = Byte.toUnsignedInt(block.get());
            int length = Short.toUnsignedInt(block.getShort());
            if (length > block.remaining())
                throw new MalformedHeaderException("v2 " + what + " 0x%02x says %d bytes, %d are left"
                        .formatted(type, length, block.remaining()));
            byte[] value = new byte[length];
            block.get(value);
            if (values.put(type, value) != null)
                throw new MalformedHeaderException("v2 " + what + " 0x%02x given twice".formatted(type));
        }
        return values;
    }

    private static String text(byte[] value) {
        return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }

    /**
     * 4 bytes make an IPv4 address; 16 bytes stay IPv6 even when IPv4-mapped (which
     * {@link InetAddress#getByAddress(byte[])} would turn into IPv4), so the header's family is what is reported.
     */
    private static InetAddress address(byte[] raw) {
        try {
            return raw.length == 4 ? InetAddress.getByAddress(raw) : Inet6Address.getByAddress(null, raw, -1);
        } catch (UnknownHostException impossible) {
            throw new IllegalStateException("a " + raw.length + "-byte address", impossible); // lengths checked above
        }
    }
}
