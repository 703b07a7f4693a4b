package io.actortls.security;

import io.actortls.testkit.Run;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Real first flights, recorded once per test run: what {@code openssl s_client} and the JDK send to open a
 * connection, TLS 1.2 and 1.3, with and without SNI and ALPN, resuming sessions the node issued (TLS 1.2 session
 * ID and ticket, TLS 1.3 stateless and stateful tickets), and offering early data. s_client talks to a socket of
 * the test's that records its bytes and hangs up.
 */
final class ClientHelloCorpus {
    /** How long the recorder waits for more bytes before taking the flight as complete. */
    private static final Duration QUIET = Duration.ofMillis(300);

    /** One recorded flight: the ClientHello record, and any records the client sent right after it. */
    record Flight(String name, byte[] bytes) {}

    private ClientHelloCorpus() {}

    /**
     * @param nodePort a node serving {@code localhost} (default vhost, resumption "both") and
     *                 {@code stateful.fuzz.test} (resumption "stateful") with certificate {@code cert}
     */
    static List<Flight> record(Path dir, int nodePort, TestPki.Cert cert, JdkTlsClient jdk) throws IOException {
        Path ids12 = dir.resolve("tls12-session-id.pem"), tickets12 = dir.resolve("tls12-ticket.pem");
        Path tickets13 = dir.resolve("tls13-ticket.pem"), stateful13 = dir.resolve("tls13-stateful.pem");
        Path earlyData = dir.resolve("early-data-session.pem"), request = dir.resolve("early-request.txt");
        SClient.newSession(nodePort, "localhost", SClient.Kind.TLS12_SESSION_ID, ids12);
        SClient.newSession(nodePort, "localhost", SClient.Kind.TLS12_TICKET, tickets12);
        SClient.newSession(nodePort, "localhost", SClient.Kind.TLS13_TICKET, tickets13);
        SClient.newSession(nodePort, "stateful.fuzz.test", SClient.Kind.TLS13_TICKET, stateful13);
        SClient.newSessionAllowingEarlyData(cert, "localhost", earlyData);
        Files.writeString(request, "GET /16 HTTP/1.1\r\nHost: localhost\r\n\r\n", StandardCharsets.US_ASCII);

        List<Flight> flights = new ArrayList<>();
        flights.add(sClient("tls13-sni-alpn", "-tls1_3", "-servername", "localhost", "-alpn", "h2,http/1.1"));
        flights.add(sClient("tls12-sni-alpn", "-tls1_2", "-servername", "localhost", "-alpn", "http/1.1"));
        flights.add(sClient("any-wildcard-name", "-servername", "a.fuzz.test"));
        flights.add(sClient("tls13-no-sni-p256", "-tls1_3", "-noservername", "-groups", "P-256:X25519"));
        flights.add(sClient("tls12-no-sni-no-ticket", "-tls1_2", "-noservername", "-no_ticket", "-status"));
        flights.add(sClient("tls12-resume-session-id", "-tls1_2", "-no_ticket", "-servername", "localhost",
                "-sess_in", ids12.toString()));
        flights.add(sClient("tls12-resume-ticket", "-tls1_2", "-servername", "localhost", "-sess_in", tickets12.toString()));
        flights.add(sClient("tls13-resume-ticket", "-tls1_3", "-servername", "localhost", "-sess_in", tickets13.toString()));
        flights.add(sClient("tls13-resume-stateful", "-tls1_3", "-servername", "stateful.fuzz.test",
                "-sess_in", stateful13.toString()));
        flights.add(sClient("tls13-early-data", "-tls1_3", "-servername", "localhost", "-sess_in", earlyData.toString(),
                "-early_data", request.toString()));
        flights.add(new Flight("jdk-tls13", jdk.clientHello("TLSv1.3", "localhost", nodePort)));
        flights.add(new Flight("jdk-tls12", jdk.clientHello("TLSv1.2", "a.fuzz.test", nodePort)));
        for (Flight flight : flights) ClientHello.parse(flight.bytes()); // each must be a whole ClientHello first
        return flights;
    }

    /** What s_client with these options sends before it hears anything back. */
    private static Flight sClient(String name, String... options) throws IOException {
        try (ServerSocket recorder = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            recorder.setSoTimeout(10_000);
            CompletableFuture<Run> client = Run.start(SClient.command(recorder.getLocalPort(), options), new byte[0],
                    Duration.ofSeconds(20));
            byte[] flight;
            try (Socket socket = recorder.accept()) {
                flight = readUntilQuiet(socket);
            }
            Run run = client.join();
            if (flight.length == 0) throw new IllegalStateException("s_client " + name + " sent nothing:\n" + run.all());
            return new Flight(name, flight);
        }
    }

    private static byte[] readUntilQuiet(Socket socket) throws IOException {
        socket.setSoTimeout(10_000); // s_client may take a while to start on a busy machine
        ByteArrayOutputStream flight = new ByteArrayOutputStream();
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[16384];
        try {
            for (int n; flight.size() < 1 << 20 && (n = in.read(buffer)) > 0; ) {
                flight.write(buffer, 0, n);
                socket.setSoTimeout((int) QUIET.toMillis());
            }
        } catch (SocketTimeoutException quiet) {
            // the client waits for our answer now: its flight is complete
        }
        return flight.toByteArray();
    }
}
