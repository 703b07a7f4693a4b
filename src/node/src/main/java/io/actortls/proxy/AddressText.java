package io.actortls.proxy;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * IP addresses as text in their canonical form: dotted decimal for IPv4, RFC 5952 for IPv6 (lower case, no
 * leading zeros, the longest run of two or more zero groups shortened to {@code ::}, no scope). Not
 * {@link InetAddress#getHostAddress()}, which never shortens IPv6 and appends the scope ({@code %eth0}), a form
 * the PROXY protocol's v1 line and most log readers do not expect.
 */
public final class AddressText {
    private AddressText() {}

    private static final int IPV6_GROUPS = 8;

    public static String canonical(InetAddress address) {
        byte[] bytes = address.getAddress();
        return address instanceof Inet4Address ? ipv4(bytes) : ipv6(bytes);
    }

    /** {@code 192.0.2.1:443}, or {@code [2001:db8::1]:443} for IPv6 so the port stays unambiguous. */
    public static String withPort(InetSocketAddress socketAddress) {
        InetAddress address = socketAddress.getAddress();
        if (address == null) throw new IllegalArgumentException("unresolved address: " + socketAddress);
        String host = canonical(address);
        return (address instanceof Inet4Address ? host : "[" + host + "]") + ":" + socketAddress.getPort();
    }

    static String ipv4(byte[] bytes) {
        return (bytes[0] & 0xff) + "." + (bytes[1] & 0xff) + "." + (bytes[2] & 0xff) + "." + (bytes[3] & 0xff);
    }

    static String ipv6(byte[] bytes) {
        int[] groups = new int[IPV6_GROUPS];
        for (int i = 0; i < IPV6_GROUPS; i++) groups[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
        // RFC 5952 4.2: shorten the longest run of zero groups (the first of equal runs), never a single group.
        int bestStart = -1;
        int bestLength = 1;
        for (int start = 0; start < IPV6_GROUPS; ) {
            if (groups[start] != 0) {
                start++;
                continue;
            }
            int end = start;
            while (end < IPV6_GROUPS && groups[end] == 0) end++;
            if (end - start > bestLength) {
                bestStart = start;
                bestLength = end - start;
            }
            start = end;
        }
        StringBuilder text = new StringBuilder(39);
        for (int i = 0; i < IPV6_GROUPS; i++) {
            if (i == bestStart) {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (!text.isEmpty() && text.charAt(text.length() - 1) != ':') text.append(':');
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }
}
