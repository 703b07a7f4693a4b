package io.actortls.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code openssl s_client} against a node on 127.0.0.1, and what its output says about the handshake: the
 * certificate presented, the key behind it, protocol, cipher, ALPN, verification, and an alert the server sent;
 * and sessions made on one node and offered to another.
 */
public final class SClient {
    private SClient() {}

    /** {@code openssl s_client -connect 127.0.0.1:PORT OPTIONS...} */
    public static List<String> command(int port, String... options) {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port));
        command.addAll(List.of(options));
        return command;
    }

    /**
     * One handshake: s_client connects, shakes hands and, finding its stdin empty, sends close_notify and exits.
     */
    public static Result handshake(int port, String... options) {
        return new Result(Run.of(command(port, options), new byte[0], Duration.ofSeconds(30)));
    }

    /**
     * The first TLS record s_client sends with these options (its ClientHello), caught by a plain server socket:
     * real bytes for clients that then misbehave (stop half-way, send one byte a second).
     */
    public static byte[] clientHello(String... options) {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            server.setSoTimeout(10_000);
            try (ClientProcess client = ClientProcess.start(command(server.getLocalPort(), options));
                 Socket socket = server.accept()) {
                socket.setSoTimeout(10_000);
                InputStream in = socket.getInputStream();
                byte[] header = in.readNBytes(5);
                if (header.length != 5 || header[0] != 0x16) throw new AssertionError("not a handshake record");
                int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
                byte[] record = Arrays.copyOf(header, 5 + length);
                if (in.readNBytes(record, 5, length) != length || record[5] != 1) throw new AssertionError("not a ClientHello");
                return record;
            }
        } catch (IOException e) {
            throw new AssertionError("no ClientHello from s_client", e);
        }
    }

    /** One of the four ways a TLS session resumes, as s_client options. */
    public enum Kind {
        TLS12_SESSION_ID("-tls1_2", "-no_ticket"),
        TLS12_TICKET("-tls1_2"),
        TLS13_TICKET("-tls1_3");

        final List<String> options;

        Kind(String... options) {
            this.options = List.of(options);
        }
    }

    /**
     * Connects, sends an HTTP request (Connection: close) and reads the response to the end (so that TLS 1.3 tickets, which
     * follow the handshake, have arrived), and saves the session to {@code sessionFile}.
     *
     * @return s_client's output
     */
    public static Run newSession(int port, String serverName, Kind kind, Path sessionFile) {
        return newSession(port, serverName, kind, sessionFile, "/16");
    }

    /** As {@link #newSession(int, String, Kind, Path)}, requesting {@code path} (e.g. "/" of a demo backend). */
    public static Run newSession(int port, String serverName, Kind kind, Path sessionFile, String path) {
        return newSession(port, serverName, kind, sessionFile, path, List.of());
    }

    /** As {@link #newSession(int, String, Kind, Path, String)}, with more s_client options (e.g. -keylogfile FILE). */
    public static Run newSession(int port, String serverName, Kind kind, Path sessionFile, String path, List<String> options) {
        return newSession(List.of(), port, serverName, kind, sessionFile, path, options);
    }

    /**
     * As {@link #newSession(int, String, Kind, Path, String, List)}, with s_client run through {@code via} (a command
     * prefix, e.g. {@code ip netns exec NS} for a node in another network namespace).
     */
    public static Run newSession(List<String> via, int port, String serverName, Kind kind, Path sessionFile, String path,
                                 List<String> options) {
        List<String> all = new ArrayList<>(List.of("-sess_out", sessionFile.toString()));
        all.addAll(options);
        Run run = run(via, port, serverName, kind, all, path);
        if (run.exitCode() != 0 || !run.out().contains("HTTP/1.1 200")) throw new AssertionError("no session made:\n" + run.all());
        return run;
    }

    /** Offers the saved session; true if the server resumed it ("Reused"). */
    public static boolean resumes(int port, String serverName, Kind kind, Path sessionFile) {
        return resumes(List.of(), port, serverName, kind, sessionFile);
    }

    /** As {@link #resumes(int, String, Kind, Path)}, with s_client run through {@code via}. */
    public static boolean resumes(List<String> via, int port, String serverName, Kind kind, Path sessionFile) {
        Run run = run(via, port, serverName, kind, List.of("-sess_in", sessionFile.toString()), "/16");
        if (run.out().contains("\nReused, ")) return true;
        if (run.out().contains("\nNew, ")) return false;
        throw new AssertionError("no handshake:\n" + run.all());
    }

    /**
     * Saves a TLS 1.3 session that allows early data, which ActorTls never issues: made by {@code openssl s_server
     * -early_data} with {@code cert}, for a client to offer a node serving the same certificate and name.
     */
    public static void newSessionAllowingEarlyData(TestPki.Cert cert, String serverName, Path sessionFile) {
        int port = Tools.freePort();
        try (ClientProcess server = ClientProcess.start(List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port,
                "-cert", cert.certificate().toString(), "-key", cert.key().toString(), "-early_data", "-quiet"))) {
            Tools.awaitListening(port, Duration.ofSeconds(10));
            try (ClientProcess client = ClientProcess.start(command(port, "-servername", serverName, "-tls1_3",
                    "-ign_eof", "-sess_out", sessionFile.toString()))) {
                // s_client writes the session when the ticket arrives, just after the handshake.
                for (int i = 0; i < 100 && !hasContent(sessionFile); i++) Thread.sleep(100);
                if (!hasContent(sessionFile)) throw new AssertionError("no session from s_server: " + client.stderr());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The session's ID in hex, as {@code openssl sess_id} reads it from the saved session. */
    public static String sessionId(Path session) {
        Run run = Run.of(List.of("openssl", "sess_id", "-in", session.toString(), "-noout", "-text"), new byte[0], Duration.ofSeconds(10));
        for (String line : run.out().lines().toList())
            if (line.strip().startsWith("Session-ID: ")) return line.strip().substring("Session-ID: ".length()).toLowerCase(java.util.Locale.ROOT);
        throw new AssertionError("no Session-ID in " + session + ": " + run.all());
    }

    private static boolean hasContent(Path file) {
        try {
            return java.nio.file.Files.exists(file) && java.nio.file.Files.size(file) > 0;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static Run run(List<String> via, int port, String serverName, Kind kind, List<String> sessionOptions, String path) {
        List<String> command = new ArrayList<>(via);
        command.addAll(command(port, "-servername", serverName, "-ign_eof"));
        command.addAll(kind.options);
        command.addAll(sessionOptions);
        byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        return Run.of(command, request, Duration.ofSeconds(20));
    }

    /** What one s_client run printed (stdout and stderr together). */
    public record Result(Run run) {
        private static final Pattern NEW_SESSION = Pattern.compile("^New, (\\S+), Cipher is (\\S+)$", Pattern.MULTILINE);

        /** True when a handshake completed (s_client printed the negotiated protocol). */
        public boolean established() {
            return protocol() != null;
        }

        /** "TLSv1.3", "TLSv1.2", or null when no handshake completed. */
        public String protocol() {
            Matcher m = NEW_SESSION.matcher(text());
            return m.find() && !m.group(1).equals("(NONE)") ? m.group(1) : null;
        }

        public String cipher() {
            Matcher m = NEW_SESSION.matcher(text());
            return m.find() && !m.group(2).equals("(NONE)") ? m.group(2) : null;
        }

        /** The server certificate's subject as s_client prints it, e.g. "CN = localhost". */
        public String subject() {
            return find("^subject=(.*)$");
        }

        /** The signature the server made with its key: "ECDSA", "RSA-PSS", "RSA". */
        public String peerSignatureType() {
            return find("^Peer signature type: (\\S+)$");
        }

        /** Size of the server certificate's public key, e.g. 256 (P-256) or 2048 (RSA). */
        public int serverKeyBits() {
            String bits = find("^Server public key is (\\d+) bit$");
            return bits == null ? -1 : Integer.parseInt(bits);
        }

        /** The ALPN protocol the server selected, or null ("No ALPN negotiated"). */
        public String alpn() {
            return find("^ALPN protocol: (\\S+)$");
        }

        /** s_client's "Verify return code", or -1 if it printed none. */
        public int verifyReturnCode() {
            String code = find("^Verify return code: (\\d+) ");
            return code == null ? -1 : Integer.parseInt(code);
        }

        /** The number of a fatal alert received from the server ("SSL alert number N"), or -1. */
        public int alertReceived() {
            String number = find("SSL alert number (\\d+)");
            return number == null ? -1 : Integer.parseInt(number);
        }

        public String text() {
            return run.all();
        }

        private String find(String regex) {
            Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text());
            return m.find() ? m.group(1) : null;
        }
    }
}
