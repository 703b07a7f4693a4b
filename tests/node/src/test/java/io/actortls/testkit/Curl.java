package io.actortls.testkit;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** curl against a node on 127.0.0.1, verifying the node's certificate with the test CA. */
public final class Curl {
    private Curl() {}

    /** What curl got: its exit code, the HTTP status (0 without a response), the body, and curl's stderr. */
    public record Response(int exitCode, int status, byte[] body, String stderr) {
        public String describe() {
            return "curl exit " + exitCode + ", HTTP " + status + ", " + body.length + " body bytes; stderr:\n" + stderr;
        }
    }

    /** {@code GET https://HOST:PORT/PATH}, HOST resolving to 127.0.0.1; {@code options} go before the URL. */
    public static Response get(Path caFile, String host, int port, String path, String... options) {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--cacert", caFile.toString(),
                "--resolve", host + ":" + port + ":127.0.0.1", "-w", "\n%{http_code}"));
        command.addAll(List.of(options));
        command.add("https://" + host + ":" + port + path);
        return run(command);
    }

    /**
     * {@code count} GETs by one curl process, each on a new TLS connection ({@code Connection: close}); returns
     * the body lines in order. {@code options} go before the URLs (e.g. {@code --interface 127.0.0.7}).
     */
    public static List<String> onNewConnections(Path caFile, String host, int port, String path, int count,
                                                String... options) {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--cacert", caFile.toString(),
                "--resolve", host + ":" + port + ":127.0.0.1", "-H", "Connection: close"));
        command.addAll(List.of(options));
        String url = "https://" + host + ":" + port + path;
        for (int i = 0; i < count; i++) command.add(url);
        Run run = Run.of(command, null, Duration.ofSeconds(120));
        if (run.exitCode() != 0) throw new AssertionError("curl exit " + run.exitCode() + ": " + run.stderr());
        return new String(run.stdout(), StandardCharsets.UTF_8).lines().toList();
    }

    /** A plain-HTTP GET, for reading the backend directly. */
    public static Response plainGet(int port, String path) {
        return run(List.of("curl", "-sS", "-w", "\n%{http_code}", "http://127.0.0.1:" + port + path));
    }

    private static Response run(List<String> command) {
        Run run = Run.of(command, null, Duration.ofSeconds(60));
        byte[] out = run.stdout();
        int newline = out.length - 1;
        while (newline >= 0 && out[newline] != '\n') newline--;
        if (newline < 0) return new Response(run.exitCode(), 0, out, run.stderr());
        int status = Integer.parseInt(new String(out, newline + 1, out.length - newline - 1, StandardCharsets.US_ASCII).trim());
        return new Response(run.exitCode(), status, Arrays.copyOf(out, newline), run.stderr());
    }
}
