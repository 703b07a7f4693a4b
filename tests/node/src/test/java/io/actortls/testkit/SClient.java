package io.actortls.testkit;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** {@code openssl s_client} for session tests: make a session on one node, offer it to another. */
public final class SClient {
    private SClient() {}

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
        Run run = run(port, serverName, kind, List.of("-sess_out", sessionFile.toString()));
        if (run.exitCode() != 0 || !run.out().contains("HTTP/1.1 200")) throw new AssertionError("no session made:\n" + run.all());
        return run;
    }

    /** Offers the saved session; true if the server resumed it ("Reused"). */
    public static boolean resumes(int port, String serverName, Kind kind, Path sessionFile) {
        Run run = run(port, serverName, kind, List.of("-sess_in", sessionFile.toString()));
        if (run.out().contains("\nReused, ")) return true;
        if (run.out().contains("\nNew, ")) return false;
        throw new AssertionError("no handshake:\n" + run.all());
    }

    private static Run run(int port, String serverName, Kind kind, List<String> sessionOptions) {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
                "-servername", serverName, "-ign_eof"));
        command.addAll(kind.options);
        command.addAll(sessionOptions);
        byte[] request = "GET /16 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        return Run.of(command, request, Duration.ofSeconds(20));
    }
}
