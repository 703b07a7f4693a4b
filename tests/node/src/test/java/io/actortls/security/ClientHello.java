package io.actortls.security;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A real client's first flight as fields: the ClientHello of its first record, and whatever followed it (a
 * ChangeCipherSpec, early data). The fuzzer changes one field and serializes the rest with consistent lengths,
 * which carries the change past OpenSSL's outer length checks into the parsers behind them (extensions, the
 * ClientHello callback's own reading of SNI and PSK identities, the ALPN callback).
 */
final class ClientHello {
    static final int HANDSHAKE = 22;
    static final int CLIENT_HELLO = 1;

    /** One extension: its type and body as sent (the body's length is written by {@link #toBytes}). */
    record Extension(int type, byte[] body) {}

    int recordType = HANDSHAKE;
    int recordVersion;
    int messageType = CLIENT_HELLO;
    int legacyVersion;
    byte[] random;
    byte[] sessionId;
    byte[] cipherSuites;
    byte[] compression;
    List<Extension> extensions = new ArrayList<>();
    /** The bytes after the first record: a ChangeCipherSpec, early data. */
    byte[] rest;

    private ClientHello() {}

    /**
     * @throws IllegalArgumentException if the first record does not hold exactly one whole ClientHello (each
     *         client the corpus records sends it so)
     */
    static ClientHello parse(byte[] flight) {
        Reader in = new Reader(flight);
        ClientHello hello = new ClientHello();
        hello.recordType = in.u8();
        hello.recordVersion = in.u16();
        int recordEnd = in.u16() + in.at;
        hello.messageType = in.u8();
        int messageEnd = in.u24() + in.at;
        if (hello.recordType != HANDSHAKE || hello.messageType != CLIENT_HELLO || messageEnd != recordEnd)
            throw new IllegalArgumentException("not one whole ClientHello in the first record");
        hello.legacyVersion = in.u16();
        hello.random = in.bytes(32);
        hello.sessionId = in.bytes(in.u8());
        hello.cipherSuites = in.bytes(in.u16());
        hello.compression = in.bytes(in.u8());
        int extensionsEnd = in.u16() + in.at;
        while (in.at < extensionsEnd) {
            int type = in.u16();
            hello.extensions.add(new Extension(type, in.bytes(in.u16())));
        }
        if (in.at != recordEnd) throw new IllegalArgumentException("extensions do not end with the record");
        hello.rest = Arrays.copyOfRange(flight, recordEnd, flight.length);
        return hello;
    }

    ClientHello copy() {
        ClientHello copy = new ClientHello();
        copy.recordType = recordType;
        copy.recordVersion = recordVersion;
        copy.messageType = messageType;
        copy.legacyVersion = legacyVersion;
        copy.random = random.clone();
        copy.sessionId = sessionId.clone();
        copy.cipherSuites = cipherSuites.clone();
        copy.compression = compression.clone();
        copy.extensions = new ArrayList<>(extensions);
        copy.rest = rest.clone();
        return copy;
    }

    /** The index of the first extension of this type, or -1. */
    int indexOf(int type) {
        for (int i = 0; i < extensions.size(); i++) if (extensions.get(i).type() == type) return i;
        return -1;
    }

    /** The handshake message: type, 24-bit length, body. */
    byte[] message() {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        u16(body, legacyVersion);
        body.writeBytes(random);
        body.write(sessionId.length & 0xff);
        body.writeBytes(sessionId);
        u16(body, cipherSuites.length);
        body.writeBytes(cipherSuites);
        body.write(compression.length & 0xff);
        body.writeBytes(compression);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (Extension e : extensions) {
            u16(all, e.type());
            u16(all, e.body().length);
            all.writeBytes(e.body());
        }
        u16(body, all.size());
        body.writeBytes(all.toByteArray());
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        message.write(messageType);
        u24(message, body.size());
        message.writeBytes(body.toByteArray());
        return message.toByteArray();
    }

    /** The ClientHello in one record, then {@link #rest}. */
    byte[] toBytes() {
        byte[] message = message();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(recordType);
        u16(out, recordVersion);
        u16(out, message.length);
        out.writeBytes(message);
        out.writeBytes(rest);
        return out.toByteArray();
    }

    static void u16(ByteArrayOutputStream out, int value) {
        out.write(value >>> 8 & 0xff);
        out.write(value & 0xff);
    }

    static void u24(ByteArrayOutputStream out, int value) {
        out.write(value >>> 16 & 0xff);
        u16(out, value);
    }

    private static final class Reader {
        private final byte[] bytes;
        int at;

        Reader(byte[] bytes) {
            this.bytes = bytes;
        }

        int u8() {
            need(1);
            return bytes[at++] & 0xff;
        }

        int u16() {
            return u8() << 8 | u8();
        }

        int u24() {
            return u8() << 16 | u16();
        }

        byte[] bytes(int n) {
            need(n);
            byte[] copy = Arrays.copyOfRange(bytes, at, at + n);
            at += n;
            return copy;
        }

        private void need(int n) {
            if (at + n > bytes.length) throw new IllegalArgumentException("ClientHello ends early, at byte " + at);
        }
    }
}
