package io.actortls.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the {@code actortls} CLI as a separate JVM, as a user's shell would ({@code io.actortls.node.Main} on the
 * build's class path), against one node's management API. ACTORTLS_* variables of the test's environment are not
 * passed on; {@link #against} sets --node and --token explicitly.
 */
public final class Cli {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A finished CLI run. */
    public record Result(int exitCode, String out, String err) {
        public JsonNode json() {
            try {
                return JSON.readTree(out);
            } catch (IOException e) {
                throw new AssertionError("not JSON (exit " + exitCode + "): " + out + "\n" + err, e);
            }
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** {@code actortls ARGS --node NODE --token TOKEN}. */
    public static Result against(String node, String token, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--node", node, "--token", token));
        return run(null, Map.of(), null, all.toArray(String[]::new));
    }

    /** {@code actortls ARGS} in {@code workDir} (null: the test's) with these environment variables and stdin. */
    public static Result run(Path workDir, Map<String, String> env, String stdin, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Tools.java());
        command.addAll(jvmFlags());
        command.addAll(List.of("-cp", ClassDataArchive.classPath(), "io.actortls.node.Main"));
        command.addAll(List.of(args));
        // Blank counts as unset for the CLI: the test's own ACTORTLS_* variables must not point it anywhere.
        Map<String, String> environment = new HashMap<>();
        System.getenv().keySet().stream().filter(name -> name.startsWith("ACTORTLS_")).forEach(name -> environment.put(name, ""));
        environment.putAll(env);
        Run run = Run.of(command, stdin == null ? null : stdin.getBytes(StandardCharsets.UTF_8), TIMEOUT,
                workDir, environment);
        return new Result(run.exitCode(), run.out(), run.stderr());
    }

    /**
     * The launcher's flags for a CLI run: C1 only and the serial collector, with a class-data archive of the CLI's
     * classes ({@link ClassDataArchive}); together they halve the CPU each run costs.
     */
    static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>(Tools.jvmFlags());
        flags.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
        List<String> withoutArchive = List.copyOf(flags);
        flags.addAll(ClassDataArchive.forCli(withoutArchive));
        return flags;
    }

    private Cli() {}
}
