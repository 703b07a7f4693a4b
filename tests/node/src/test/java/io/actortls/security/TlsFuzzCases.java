package io.actortls.security;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The fuzz cases: each a function of (seed, index) and the recorded corpus only, so a failing case is named by its
 * index and made again with the same seed (the corpus's own random fields differ between runs; a failure report
 * carries the bytes sent).
 */
final class TlsFuzzCases {
    /** How the node must end each kind of case, as its close counters tell. */
    enum Expect {
        /** protocol-error or handshake-aborted: refused at once, or given up on when the client leaves. */
        REFUSED,
        /** As REFUSED, and the node answers with a ServerHello first: the input was a valid ClientHello. */
        SERVER_HELLO_THEN_REFUSED,
        /** handshake-timeout: the client sends part of a handshake, then nothing, and never leaves. */
        TIMED_OUT,
        /** A real client that must be served, or refused, as the case itself finds out (see FuzzRunner). */
        JDK_CLIENT
    }

    /** The kinds of case, each with its share of the cases per thousand. */
    enum Kind {
        RANDOM_BYTES(120, Expect.REFUSED),
        RANDOM_RECORDS(60, Expect.REFUSED),
        SSLV2_HELLO(40, Expect.REFUSED),
        TRUNCATED_HELLO(130, Expect.REFUSED),
        MUTATED_HELLO(396, Expect.REFUSED),
        OVERSIZED_RECORD(50, Expect.REFUSED),
        /**
         * A valid first flight, then records that are not the client's next flight. The ServerHello that comes
         * first is not checked: a node that refuses while the client still sends resets, and TCP drops it.
         */
        GARBAGE_AFTER_HELLO(80, Expect.REFUSED),
        /** A valid first flight, a quarter of them in 1-byte writes. */
        WHOLE_HELLO(50, Expect.SERVER_HELLO_THEN_REFUSED),
        /** A valid ClientHello over many records of 1 to N bytes. */
        FRAGMENTED_HELLO(60, Expect.SERVER_HELLO_THEN_REFUSED),
        /** Part of a valid first flight, then silence. */
        SILENT_PREFIX(6, Expect.TIMED_OUT),
        /** The JDK client, every byte in a write of its own: handshake, GET, response, close_notify. */
        ONE_BYTE_HANDSHAKE(4, Expect.JDK_CLIENT),
        /** The same handshake, then a record that does not authenticate, under the TLS layer. */
        ONE_BYTE_HANDSHAKE_THEN_GARBAGE(2, Expect.JDK_CLIENT),
        /** The JDK client asks for a TLS 1.2 renegotiation after its handshake. */
        RENEGOTIATION(2, Expect.JDK_CLIENT);

        final int weight;
        final Expect expect;

        Kind(int weight, Expect expect) {
            this.weight = weight;
            this.expect = expect;
        }
    }

    /** How the bytes go onto the socket. */
    enum Writes { WHOLE, SMALL_CHUNKS, ONE_BYTE }

    /**
     * @param bytes  what to send (for JDK cases: the record sent under the TLS layer, if any)
     * @param chunks sizes of the writes, in order, summing to bytes.length
     * @param tls13  for JDK cases: TLS 1.3, else TLS 1.2
     */
    record Case(long index, Kind kind, byte[] bytes, int[] chunks, Writes writes, boolean tls13) {
        boolean leavesAfterSending() {
            return kind.expect != Expect.TIMED_OUT;
        }
    }

    private static final int TOTAL_WEIGHT = Arrays.stream(Kind.values()).mapToInt(k -> k.weight).sum();
    private static final int MAX_RECORD = 16384;
    /** The largest record a TLS peer may send (RFC 8446 5.2: 2^14 + 256; RFC 5246 6.2.3: 2^14 + 2048). */
    private static final int MAX_CIPHERTEXT = MAX_RECORD + 2048;
    private static final int[] VERSIONS = {0x0303, 0x0301, 0x0304, 0x0300, 0x0302, 0x0002, 0x0000, 0x03ff, 0xfefd, 0xffff, 0x7f1c};
    private static final int[] EXTENSIONS = {0, 5, 10, 11, 13, 16, 18, 21, 22, 23, 27, 28, 35, 41, 42, 43, 44, 45, 47,
            49, 50, 51, 0xff01, 0x0a0a, 0x3374};
    private static final int SNI = 0, SUPPORTED_GROUPS = 10, SIGNATURE_ALGORITHMS = 13, ALPN = 16, PADDING = 21,
            SESSION_TICKET = 35, PRE_SHARED_KEY = 41, SUPPORTED_VERSIONS = 43, PSK_MODES = 45, KEY_SHARE = 51,
            RENEGOTIATION_INFO = 0xff01;

    private final long seed;
    private final List<ClientHelloCorpus.Flight> corpus;

    TlsFuzzCases(long seed, List<ClientHelloCorpus.Flight> corpus) {
        this.seed = seed;
        this.corpus = List.copyOf(corpus);
    }

    Case make(long index) {
        SplittableRandom r = new SplittableRandom(seed ^ index * 0x9E3779B97F4A7C15L);
        Kind kind = kind(r.nextInt(TOTAL_WEIGHT));
        return switch (kind) {
            case ONE_BYTE_HANDSHAKE -> jdk(index, kind, new byte[0], r.nextBoolean());
            case ONE_BYTE_HANDSHAKE_THEN_GARBAGE -> jdk(index, kind, forgedRecord(r), r.nextBoolean());
            case RENEGOTIATION -> jdk(index, kind, new byte[0], false);
            case WHOLE_HELLO -> sent(index, kind, flight(r), r, r.nextInt(4) == 0 ? Writes.ONE_BYTE : null);
            case SILENT_PREFIX -> {
                byte[] flight = flight(r);
                yield sent(index, kind, Arrays.copyOf(flight, 1 + r.nextInt(flight.length - 1)), r, null);
            }
            default -> sent(index, kind, bytes(kind, r), r, null);
        };
    }

    private static Kind kind(int pick) {
        for (Kind kind : Kind.values()) {
            if (pick < kind.weight) return kind;
            pick -= kind.weight;
        }
        throw new IllegalStateException();
    }

    private static Case jdk(long index, Kind kind, byte[] bytes, boolean tls13) {
        return new Case(index, kind, bytes, new int[] {bytes.length}, Writes.ONE_BYTE, tls13);
    }

    /**
     * Most cases go out in one write; one in ten in chunks, one in fifty a byte at a time (each write is a wake-up
     * and a step of OpenSSL's parser on the node: the costliest part of a case, so valid ClientHellos get most of
     * them, see {@link Kind#WHOLE_HELLO}).
     */
    private static Case sent(long index, Kind kind, byte[] bytes, SplittableRandom r, Writes forced) {
        int pick = r.nextInt(100);
        Writes writes = forced != null ? forced
                : pick < 88 ? Writes.WHOLE : pick < 98 || bytes.length > 1024 ? Writes.SMALL_CHUNKS : Writes.ONE_BYTE;
        int[] chunks = switch (writes) {
            case WHOLE -> new int[] {bytes.length};
            case ONE_BYTE -> filled(bytes.length);
            case SMALL_CHUNKS -> chunks(bytes.length, r.nextBoolean() ? 1 + r.nextInt(16) : 1 + r.nextInt(1024), r);
        };
        return new Case(index, kind, bytes, chunks, writes, false);
    }

    private static int[] filled(int n) {
        int[] ones = new int[n];
        Arrays.fill(ones, 1);
        return ones;
    }

    private static int[] chunks(int length, int largest, SplittableRandom r) {
        List<Integer> sizes = new ArrayList<>();
        for (int left = length; left > 0; ) {
            int size = Math.min(left, 1 + r.nextInt(largest));
            sizes.add(size);
            left -= size;
        }
        return sizes.stream().mapToInt(Integer::intValue).toArray();
    }

    private byte[] flight(SplittableRandom r) {
        return corpus.get(r.nextInt(corpus.size())).bytes();
    }

    private byte[] bytes(Kind kind, SplittableRandom r) {
        return switch (kind) {
            case RANDOM_BYTES -> randomBytes(r);
            case RANDOM_RECORDS -> randomRecords(r, 1 + r.nextInt(3));
            case SSLV2_HELLO -> sslv2Hello(r);
            case TRUNCATED_HELLO -> {
                byte[] flight = flight(r);
                // Half the cuts fall into the headers, where the parsers decide how much to wait for.
                int cut = r.nextBoolean() ? 1 + r.nextInt(Math.min(60, flight.length - 1)) : 1 + r.nextInt(flight.length - 1);
                yield Arrays.copyOf(flight, cut);
            }
            case MUTATED_HELLO -> mutated(ClientHello.parse(flight(r)).copy(), r);
            case OVERSIZED_RECORD -> concat(r.nextBoolean() ? new byte[0] : flight(r), oversizedRecord(r));
            case GARBAGE_AFTER_HELLO -> concat(flight(r), r.nextInt(8) == 0 ? flight(r) : randomRecords(r, 1 + r.nextInt(4)));
            case FRAGMENTED_HELLO -> fragmented(ClientHello.parse(flight(r)), r);
            default -> throw new IllegalArgumentException(kind.toString());
        };
    }

    // ---- garbage -------------------------------------------------------------------------------------------

    private static byte[] randomBytes(SplittableRandom r) {
        int length = switch (r.nextInt(3)) {
            case 0 -> 1 + r.nextInt(16);
            case 1 -> 17 + r.nextInt(500);
            default -> 517 + r.nextInt(20_000);
        };
        byte[] bytes = random(r, length);
        // Half start like something a server might try to read on: a TLS record, SSLv2, HTTP, a PROXY header.
        byte[] firsts = {0x16, (byte) 0x80, 0x14, 0x15, 0x17, 0x18, 'G', 'P', 'C', 0x00, (byte) 0xff, 0x0d};
        if (r.nextBoolean()) bytes[0] = firsts[r.nextInt(firsts.length)];
        return bytes;
    }

    /** Records of any content type and version, with random bodies, sometimes with a length that lies. */
    private static byte[] randomRecords(SplittableRandom r, int count) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] types = {20, 21, 22, 23, 24, 0, 25, 255};
        for (int i = 0; i < count; i++) {
            int type = r.nextInt(4) == 0 ? r.nextInt(256) : types[r.nextInt(types.length)];
            byte[] body = switch (type) {
                case 20 -> r.nextBoolean() ? new byte[] {1} : random(r, r.nextInt(8));
                case 21 -> random(r, r.nextBoolean() ? 2 : r.nextInt(8));
                default -> random(r, r.nextInt(4) == 0 ? r.nextInt(MAX_RECORD + 1) : r.nextInt(600));
            };
            int length = r.nextInt(6) == 0 ? r.nextInt(1 << 16) : body.length;
            out.write(type);
            ClientHello.u16(out, version(r));
            ClientHello.u16(out, length);
            out.writeBytes(body);
        }
        return out.toByteArray();
    }

    /** An application-data record, its length true, that cannot authenticate under any key the node holds. */
    private static byte[] forgedRecord(SplittableRandom r) {
        byte[] body = random(r, 1 + r.nextInt(600));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(23);
        ClientHello.u16(out, 0x0303);
        ClientHello.u16(out, body.length);
        out.writeBytes(body);
        return out.toByteArray();
    }

    /** The SSL 2.0-compatible ClientHello (RFC 5246 appendix E.2), with fields right and wrong. */
    private static byte[] sslv2Hello(SplittableRandom r) {
        int ciphers = r.nextInt(4) == 0 ? r.nextInt(100) : 3 * (1 + r.nextInt(30));
        int sessionId = r.nextInt(4) == 0 ? r.nextInt(40) : 0;
        int challenge = r.nextInt(4) == 0 ? r.nextInt(64) : 16 + r.nextInt(17);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(1); // client_hello
        ClientHello.u16(body, version(r));
        ClientHello.u16(body, ciphers);
        ClientHello.u16(body, sessionId);
        ClientHello.u16(body, challenge);
        body.writeBytes(random(r, ciphers + sessionId + challenge));
        byte[] message = body.toByteArray();
        int length = r.nextInt(5) == 0 ? r.nextInt(0x8000) : message.length;
        return concat(new byte[] {(byte) (0x80 | length >>> 8 & 0x7f), (byte) length}, message);
    }

    /** A record longer than any peer may send, announced in its header, then some or all of its body. */
    private static byte[] oversizedRecord(SplittableRandom r) {
        int length = r.nextInt(4) == 0 ? MAX_RECORD + 1 + r.nextInt(2048) : MAX_CIPHERTEXT + 1 + r.nextInt(0x10000 - MAX_CIPHERTEXT - 1);
        int sent = switch (r.nextInt(4)) {
            case 0 -> 0;
            case 1 -> r.nextInt(200);
            case 2 -> r.nextInt(8192);
            default -> length;
        };
        int[] types = {22, 23, 21, 20, 24};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(types[r.nextInt(types.length)]);
        ClientHello.u16(out, r.nextBoolean() ? 0x0303 : 0x0301);
        ClientHello.u16(out, length);
        out.writeBytes(random(r, sent));
        return out.toByteArray();
    }

    // ---- valid flights, cut into records -------------------------------------------------------------------

    /** The ClientHello message over many records of 1 to N bytes each: valid TLS that every server must take. */
    private static byte[] fragmented(ClientHello hello, SplittableRandom r) {
        byte[] message = hello.message();
        int largest = switch (r.nextInt(3)) {
            case 0 -> 1;
            case 1 -> 1 + r.nextInt(16);
            default -> 1 + r.nextInt(512);
        };
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int at = 0; at < message.length; ) {
            int size = Math.min(message.length - at, 1 + r.nextInt(largest));
            out.write(ClientHello.HANDSHAKE);
            ClientHello.u16(out, hello.recordVersion);
            ClientHello.u16(out, size);
            out.write(message, at, size);
            at += size;
        }
        out.writeBytes(hello.rest);
        return out.toByteArray();
    }

    // ---- mutations -------------------------------------------------------------------------------------------

    /**
     * One to three changes to the ClientHello's fields (serialized with consistent lengths, so they reach the
     * parsers behind the length checks), then, for a third of the cases, changes to the bytes themselves.
     */
    private static byte[] mutated(ClientHello h, SplittableRandom r) {
        for (int n = 1 + r.nextInt(3); n > 0; n--) mutateField(h, r);
        byte[] bytes = h.toBytes();
        if (r.nextInt(3) == 0) bytes = mutateBytes(bytes, h, r);
        return bytes;
    }

    private static void mutateField(ClientHello h, SplittableRandom r) {
        List<ClientHello.Extension> ext = h.extensions;
        switch (r.nextInt(20)) {
            case 0, 1, 2 -> { // an extension's body replaced by a malformed one of its type
                if (ext.isEmpty()) return;
                int i = r.nextInt(ext.size());
                ext.set(i, new ClientHello.Extension(ext.get(i).type(), body(ext.get(i).type(), r)));
            }
            case 3, 4 -> ext.add(r.nextInt(ext.size() + 1), newExtension(r));
            case 5 -> { // duplicated
                if (ext.isEmpty()) return;
                ext.add(r.nextInt(ext.size() + 1), ext.get(r.nextInt(ext.size())));
            }
            case 6 -> { // removed (without key_share a TLS 1.3 server asks again; without versions it is TLS 1.2)
                if (!ext.isEmpty()) ext.remove(r.nextInt(ext.size()));
            }
            case 7 -> { // reordered: pre_shared_key must stay last
                for (int i = ext.size() - 1; i > 0; i--) {
                    int j = r.nextInt(i + 1);
                    ClientHello.Extension e = ext.get(i);
                    ext.set(i, ext.get(j));
                    ext.set(j, e);
                }
            }
            case 8 -> h.sessionId = random(r, r.nextInt(4) == 0 ? 33 + r.nextInt(223) : r.nextInt(33));
            case 9 -> h.cipherSuites = switch (r.nextInt(4)) {
                case 0 -> random(r, r.nextInt(2000));
                case 1 -> new byte[0];
                case 2 -> new byte[] {0x56, 0x00, 0x00, (byte) 0xff}; // only TLS_FALLBACK_SCSV and the renegotiation SCSV
                default -> Arrays.copyOf(h.cipherSuites, h.cipherSuites.length + 1); // an odd length
            };
            case 10 -> h.compression = switch (r.nextInt(3)) {
                case 0 -> new byte[0];
                case 1 -> new byte[] {1}; // DEFLATE only
                default -> random(r, r.nextInt(256));
            };
            case 11 -> h.legacyVersion = version(r);
            case 12 -> h.recordVersion = version(r);
            case 13 -> h.messageType = r.nextInt(256);
            case 14 -> h.recordType = new int[] {20, 21, 23, 24, 0, r.nextInt(256)}[r.nextInt(6)];
            case 15 -> { // many extensions: a ClientHello as big as a record allows, or bigger
                ClientHello.Extension e = newExtension(r);
                for (int n = 10 + r.nextInt(500); n > 0; n--) ext.add(e);
            }
            case 16 -> ext.add(new ClientHello.Extension(PADDING, r.nextBoolean() ? new byte[r.nextInt(17000)] : random(r, r.nextInt(600))));
            case 17 -> setExtension(h, SNI, body(SNI, r));
            case 18 -> setExtension(h, KEY_SHARE, body(KEY_SHARE, r));
            default -> { // a PSK (a session-cache lookup or a ticket to decrypt), last or not
                byte[] psk = body(PRE_SHARED_KEY, r);
                int i = h.indexOf(PRE_SHARED_KEY);
                if (i >= 0) ext.set(i, new ClientHello.Extension(PRE_SHARED_KEY, psk));
                else ext.add(r.nextInt(4) == 0 ? r.nextInt(ext.size() + 1) : ext.size(), new ClientHello.Extension(PRE_SHARED_KEY, psk));
                if (h.indexOf(PSK_MODES) < 0 && r.nextBoolean()) ext.add(0, new ClientHello.Extension(PSK_MODES, new byte[] {1, 1}));
            }
        }
    }

    private static void setExtension(ClientHello h, int type, byte[] body) {
        int i = h.indexOf(type);
        if (i >= 0) h.extensions.set(i, new ClientHello.Extension(type, body));
        else h.extensions.add(0, new ClientHello.Extension(type, body));
    }

    private static ClientHello.Extension newExtension(SplittableRandom r) {
        int type = r.nextInt(5) == 0 ? r.nextInt(1 << 16) : EXTENSIONS[r.nextInt(EXTENSIONS.length)];
        return new ClientHello.Extension(type, body(type, r));
    }

    /** A body for an extension of this type: well-formed but wrong, or malformed where the parser looks. */
    private static byte[] body(int type, SplittableRandom r) {
        if (r.nextInt(6) == 0) return random(r, r.nextInt(300));
        return switch (type) {
            case SNI -> serverNames(r);
            case ALPN -> alpn(r);
            case KEY_SHARE -> keyShares(r);
            case SUPPORTED_VERSIONS -> {
                int[] versions = {0x0304, 0x0303, 0x0302, 0x7f1c, 0xfefc, 0x0a0a, 0x0300, r.nextInt(1 << 16)};
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                int n = r.nextInt(6);
                out.write(r.nextInt(5) == 0 ? r.nextInt(256) : 2 * n + (r.nextInt(5) == 0 ? 1 : 0));
                for (int i = 0; i < n; i++) ClientHello.u16(out, versions[r.nextInt(versions.length)]);
                yield out.toByteArray();
            }
            case SUPPORTED_GROUPS, SIGNATURE_ALGORITHMS -> {
                int[] known = {0x001d, 0x0017, 0x0018, 0x001e, 0x0100, 0x0403, 0x0804, 0x0401, 0x0201, 0x0000, 0xffff};
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                int n = r.nextInt(40);
                ClientHello.u16(out, r.nextInt(5) == 0 ? r.nextInt(1 << 16) : 2 * n + (r.nextInt(5) == 0 ? 1 : 0));
                for (int i = 0; i < n; i++) ClientHello.u16(out, known[r.nextInt(known.length)]);
                yield out.toByteArray();
            }
            case PRE_SHARED_KEY -> psk(r);
            case PSK_MODES -> {
                int n = r.nextInt(4);
                byte[] modes = new byte[1 + n];
                modes[0] = (byte) (r.nextInt(5) == 0 ? r.nextInt(256) : n);
                for (int i = 1; i <= n; i++) modes[i] = (byte) (r.nextBoolean() ? r.nextInt(2) : r.nextInt(256));
                yield modes;
            }
            case SESSION_TICKET -> random(r, r.nextInt(4) == 0 ? 0 : 16 + r.nextInt(300));
            case RENEGOTIATION_INFO -> {
                byte[] info = random(r, 1 + r.nextInt(40));
                info[0] = (byte) (r.nextBoolean() ? info.length - 1 : r.nextInt(256));
                yield info;
            }
            default -> random(r, r.nextInt(4) == 0 ? 0 : r.nextInt(64));
        };
    }

    private static byte[] serverNames(SplittableRandom r) {
        String[] names = {"", ".", "..", "localhost.", "LOCALHOST", "*.fuzz.test", "a.fuzz.test", "a.b.fuzz.test",
                ".fuzz.test", "fuzz.test", "stateful.fuzz.test", "127.0.0.1", "a\0b", "localhost\0.evil", " localhost ",
                "xn--nxasmq6b.fuzz.test", "a".repeat(255), "a".repeat(300) + ".fuzz.test", "é.fuzz.test"};
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (int n = r.nextInt(5) == 0 ? 2 + r.nextInt(4) : 1; n > 0; n--) {
            byte[] name = r.nextInt(5) == 0 ? random(r, r.nextInt(300))
                    : names[r.nextInt(names.length)].getBytes(StandardCharsets.UTF_8);
            list.write(r.nextInt(8) == 0 ? r.nextInt(256) : 0);
            ClientHello.u16(list, r.nextInt(8) == 0 ? r.nextInt(1 << 16) : name.length);
            list.writeBytes(name);
        }
        return withLength16(list.toByteArray(), r);
    }

    private static byte[] alpn(SplittableRandom r) {
        String[] protocols = {"http/1.1", "h2", "h3", "", "x".repeat(255), "http/1.1\0", "HTTP/1.1", "acme-tls/1"};
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (int n = r.nextInt(5) == 0 ? r.nextInt(100) : 1 + r.nextInt(3); n > 0; n--) {
            byte[] protocol = r.nextInt(5) == 0 ? random(r, r.nextInt(256))
                    : protocols[r.nextInt(protocols.length)].getBytes(StandardCharsets.US_ASCII);
            list.write(r.nextInt(8) == 0 ? r.nextInt(256) : protocol.length);
            list.writeBytes(protocol);
        }
        return withLength16(list.toByteArray(), r);
    }

    private static byte[] keyShares(SplittableRandom r) {
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (int n = r.nextInt(4); n > 0; n--) {
            int group;
            byte[] key;
            switch (r.nextInt(6)) {
                case 0 -> { group = 0x001d; key = new byte[32]; } // X25519's all-zero (low-order) point
                case 1 -> { group = 0x001d; key = random(r, r.nextBoolean() ? 32 : r.nextInt(70)); }
                case 2 -> { // a P-256 point that is (almost surely) not on the curve
                    group = 0x0017;
                    key = random(r, 65);
                    key[0] = 4;
                }
                case 3 -> { group = 0x0017; key = random(r, r.nextInt(100)); }
                case 4 -> { group = 0x0100; key = random(r, r.nextBoolean() ? 256 : r.nextInt(300)); } // ffdhe2048
                default -> { group = r.nextInt(1 << 16); key = random(r, r.nextInt(100)); }
            }
            ClientHello.u16(list, group);
            ClientHello.u16(list, r.nextInt(8) == 0 ? r.nextInt(1 << 16) : key.length);
            list.writeBytes(key);
        }
        return withLength16(list.toByteArray(), r);
    }

    /**
     * Identities of up to 32 bytes are what a stateful session ID looks like (the node asks the cluster for it);
     * longer ones are tickets to decrypt (the ticket-key callback looks up their first 16 bytes).
     */
    private static byte[] psk(SplittableRandom r) {
        ByteArrayOutputStream identities = new ByteArrayOutputStream();
        int count = r.nextInt(4);
        for (int i = 0; i < count; i++) {
            byte[] identity = random(r, r.nextBoolean() ? 1 + r.nextInt(32) : r.nextInt(400));
            ClientHello.u16(identities, r.nextInt(8) == 0 ? r.nextInt(1 << 16) : identity.length);
            identities.writeBytes(identity);
            identities.writeBytes(random(r, 4)); // obfuscated_ticket_age
        }
        ByteArrayOutputStream binders = new ByteArrayOutputStream();
        for (int i = r.nextInt(5) == 0 ? r.nextInt(4) : count; i > 0; i--) {
            byte[] binder = random(r, r.nextBoolean() ? 32 : r.nextInt(60));
            binders.write(r.nextInt(8) == 0 ? r.nextInt(256) : binder.length);
            binders.writeBytes(binder);
        }
        return concat(withLength16(identities.toByteArray(), r), withLength16(binders.toByteArray(), r));
    }

    /** A list with its 16-bit length in front, which now and then lies. */
    private static byte[] withLength16(byte[] list, SplittableRandom r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int length = switch (r.nextInt(10)) {
            case 0 -> list.length + 1;
            case 1 -> Math.max(0, list.length - 1);
            case 2 -> r.nextInt(1 << 16);
            default -> list.length;
        };
        ClientHello.u16(out, length);
        out.writeBytes(list);
        return out.toByteArray();
    }

    /**
     * Bit flips, random runs, a length field set to an edge, bytes inserted or removed; then, half the time, the
     * record and message lengths made to fit again, so the damage reaches the ClientHello parser.
     */
    private static byte[] mutateBytes(byte[] bytes, ClientHello h, SplittableRandom r) {
        int end = bytes.length - h.rest.length; // the first record; the rest stays as the client sent it
        if (end <= 9) return bytes;
        byte[] out = bytes.clone();
        switch (r.nextInt(5)) {
            case 0 -> {
                for (int n = 1 + r.nextInt(8); n > 0; n--) out[r.nextInt(end)] ^= (byte) (1 << r.nextInt(8));
            }
            case 1 -> {
                int at = r.nextInt(end), run = Math.min(end - at, 1 + r.nextInt(32));
                byte fill = r.nextBoolean() ? 0 : (byte) 0xff;
                for (int i = at; i < at + run; i++) out[i] = r.nextBoolean() ? fill : (byte) r.nextInt(256);
            }
            case 2 -> { // one of the length fields of the fixed part: {offset, bytes}
                int sid = h.sessionId.length, suites = h.cipherSuites.length;
                int[][] fields = {{3, 2}, {7, 2}, {43, 1}, {44 + sid, 2}, {46 + sid + suites, 1},
                        {47 + sid + suites + h.compression.length, 2}};
                int[] field = fields[r.nextInt(fields.length)];
                int at = field[0], max = field[1] == 2 ? 0xffff : 0xff;
                if (at + field[1] > end) return out;
                int old = field[1] == 2 ? (out[at] & 0xff) << 8 | out[at + 1] & 0xff : out[at] & 0xff;
                int value = switch (r.nextInt(5)) {
                    case 0 -> 0;
                    case 1 -> max;
                    case 2 -> old + (r.nextBoolean() ? 1 : -1);
                    default -> r.nextInt(max + 1);
                };
                if (field[1] == 2) out[at++] = (byte) (value >>> 8);
                out[at] = (byte) value;
            }
            case 3 -> {
                int at = 5 + r.nextInt(end - 5);
                out = concat(Arrays.copyOf(out, at), random(r, 1 + r.nextInt(64)), Arrays.copyOfRange(out, at, out.length));
            }
            default -> {
                int at = 5 + r.nextInt(end - 5), cut = Math.min(end - at, 1 + r.nextInt(64));
                out = concat(Arrays.copyOf(out, at), Arrays.copyOfRange(out, at + cut, out.length));
            }
        }
        if (r.nextBoolean()) {
            int recordLength = out.length - h.rest.length - 5;
            if (recordLength >= 4 && recordLength < 1 << 16) {
                out[3] = (byte) (recordLength >>> 8);
                out[4] = (byte) recordLength;
                out[6] = 0;
                out[7] = (byte) ((recordLength - 4) >>> 8);
                out[8] = (byte) (recordLength - 4);
            }
        }
        return out;
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private static int version(SplittableRandom r) {
        return r.nextInt(6) == 0 ? r.nextInt(1 << 16) : VERSIONS[r.nextInt(VERSIONS.length)];
    }

    private static byte[] random(SplittableRandom r, int length) {
        byte[] bytes = new byte[length];
        r.nextBytes(bytes);
        return bytes;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) out.writeBytes(part);
        return out.toByteArray();
    }
}
