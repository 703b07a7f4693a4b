package io.actortls.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The shared load tool ({@code tlsload full}) running in the background against some TLS ports: full handshakes
 * verified against the test CA, each followed by one GET; {@link #stop} ends it (SIGTERM) and returns its report.
 */
public final class TlsLoad implements AutoCloseable {
    private final Process process;
    private final Path out;
    private final Path err;

    private TlsLoad(Process process, Path out, Path err) {
        this.process = process;
        this.out = out;
        this.err = err;
    }

    /** {@code conns} connections at a time over {@code ports} in turn, until stopped (at most {@code maxSeconds}). */
    public static TlsLoad start(Path caFile, String serverName, String path, int conns, int maxSeconds, List<Integer> ports) {
        List<String> command = command(caFile, serverName, path, conns, maxSeconds, ports);
        try {
            // Files, not pipes: the report is written as the process ends, and must not depend on a reader thread.
            Path out = Files.createTempFile("tlsload-", ".json");
            Path err = Files.createTempFile("tlsload-", ".err");
            return new TlsLoad(new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start(),
                    out, err);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + command, e);
        }
    }

    /** Runs {@code requests} connections to their end (at most {@code maxSeconds}) and returns the report. */
    public static Report run(Path caFile, String serverName, String path, int conns, int requests, int maxSeconds,
                             List<Integer> ports) {
        List<String> command = command(caFile, serverName, path, conns, maxSeconds, ports);
        command.addAll(List.of("--requests", Integer.toString(requests)));
        Run run = Run.of(command, null, java.time.Duration.ofSeconds(maxSeconds + 30));
        return report(run.out(), run.stderr());
    }

    private static List<String> command(Path caFile, String serverName, String path, int conns, int maxSeconds,
                                        List<Integer> ports) {
        return new ArrayList<>(List.of(Tools.tlsloadBinary().toString(), "full", "--targets",
                String.join(",", ports.stream().map(p -> "127.0.0.1:" + p).toList()), "--conns", Integer.toString(conns),
                "--threads", "1", "--get", path, "--sni", serverName, "--verify", caFile.toString(),
                "--duration", Integer.toString(maxSeconds), "--timeout", "20", "--json"));
    }

    private static Report report(String stdout, String stderr) {
        if (!stdout.strip().startsWith("{")) throw new AssertionError("no tlsload report: " + stdout + "\n" + stderr);
        try {
            return new Report(new ObjectMapper().readTree(stdout), stderr);
        } catch (IOException e) {
            throw new AssertionError("unparsable tlsload report: " + stdout, e);
        }
    }

    /** The report of a run that ended. */
    public record Report(JsonNode json, String stderr) {
        public long handshakes() {
            return json.path("handshakes").asLong();
        }

        public long transfers() {
            return json.path("transfers").asLong();
        }

        /** Failed connections by kind (refused, connect, tls, timeout, io, http). */
        public Map<String, Long> errors() {
            Map<String, Long> errors = new TreeMap<>();
            json.path("errors").properties().forEach(e -> errors.put(e.getKey(), e.getValue().asLong()));
            return errors;
        }

        public long failed() {
            return errors().values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** Stops the run and returns its report. */
    public Report stop() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError("tlsload did not stop");
            String stdout = Files.readString(out, StandardCharsets.UTF_8);
            String stderr = Files.readString(err, StandardCharsets.UTF_8);
            if (stdout.isBlank()) throw new AssertionError("tlsload exited " + process.exitValue() + " without a report: " + stderr);
            return report(stdout, stderr);
        } catch (InterruptedException | IOException e) {
            throw new AssertionError("tlsload: " + e, e);
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
