package io.actortls.proxy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link FirstRecord}: a handshake record is whole once its header's length has arrived after the header, however the
 * bytes are split; bytes that cannot start a TLS handshake record are let through at once, for OpenSSL to refuse.
 */
class StartsTheHandshakeOnceTheFirstRecordHasArrivedTest {

    /** A handshake record header (TLS 1.0 record version, as ClientHellos use) and {@code length} body bytes. */
    private static byte[] record(int length) {
        byte[] record = new byte[5 + length];
        record[0] = 22;
        record[1] = 3;
        record[2] = 1;
        record[3] = (byte) (length >> 8);
        record[4] = (byte) length;
        Arrays.fill(record, 5, record.length, (byte) 0x5a);
        return record;
    }

    /** Feeds {@code bytes} in chunks of {@code size}; returns after which byte (1-based) it said "arrived", or -1. */
    private static int arrivedAfter(byte[] bytes, int size) {
        FirstRecord first = new FirstRecord();
        for (int from = 0; from < bytes.length; from += size) {
            int n = Math.min(size, bytes.length - from);
            // The node reads into a buffer larger than what arrived: only the first n bytes count.
            MemorySegment buffer = MemorySegment.ofArray(Arrays.copyOfRange(bytes, from, from + size + 7));
            if (first.add(buffer, n)) return from + n;
        }
        return -1;
    }

    @Test
    void aClientHelloArrivesWithItsLastByteHoweverItIsSplit() {
        byte[] hello = record(512);
        for (int size : new int[] {1, 2, 3, 5, 6, 100, 517})
            assertTrue(arrivedAfter(hello, size) == hello.length, "in chunks of " + size);
        assertTrue(arrivedAfter(record(16384), 1000) == 5 + 16384);
    }

    @Test
    void halfAClientHelloHasNotArrived() {
        byte[] hello = record(512);
        assertTrue(arrivedAfter(Arrays.copyOf(hello, 200), 1) == -1);
        assertTrue(arrivedAfter(Arrays.copyOf(hello, 4), 4) == -1, "half a header");
        FirstRecord first = new FirstRecord();
        assertFalse(first.add(MemorySegment.ofArray(hello), 0));
        assertFalse(first.arrived());
    }

    @Test
    void moreThanOneRecordInOneRead() {
        byte[] two = new byte[2 * 517];
        System.arraycopy(record(512), 0, two, 0, 517);
        System.arraycopy(record(512), 0, two, 517, 517);
        assertTrue(arrivedAfter(two, two.length) == two.length);
    }

    @Test
    void whatCannotStartAHandshakeRecordGoesToOpenSslAtOnce() {
        assertTrue(arrivedAfter("GET / HTTP/1.1\r\n".getBytes(), 1) == 1, "plain HTTP");
        assertTrue(arrivedAfter(new byte[] {(byte) 0x80, 0x2e, 0x01}, 1) == 1, "an SSL 2.0 ClientHello");
        assertTrue(arrivedAfter(new byte[] {23, 3, 3, 0, 10}, 1) == 1, "application data first");
        assertTrue(arrivedAfter(new byte[] {22, 4, 1, 0, 10}, 1) == 2, "no SSL 3 / TLS record version");
        byte[] tooLong = record(0);
        tooLong[3] = (byte) 0x48;
        tooLong[4] = 0x01; // 18433 bytes: beyond TLSCiphertext
        assertTrue(arrivedAfter(tooLong, 1) == 5, "a length no TLS record has");
        assertTrue(arrivedAfter(record(0), 1) == 5, "an empty record");
    }
}
