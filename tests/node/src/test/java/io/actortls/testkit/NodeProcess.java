package io.actortls.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * An ActorTls node as a separate JVM process, started the way the launcher starts it ({@code Main node
 * --config FILE}), with JSON logs so tests can read its connection-close records.
 */
public final class NodeProcess implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path configFile;
    private final List<String> stdout = new CopyOnWriteArrayList<>();
    private final List<String> stderr = new CopyOnWriteArrayList<>();
    private final Thread stdoutReader;
    private final Thread stderrReader;

    private NodeProcess(Process process, Path configFile) {
        this.process = process;
        this.configFile = configFile;
        this.stdoutReader = Thread.ofPlatform().daemon().start(() -> collect(process.getInputStream(), stdout));
        this.stderrReader = Thread.ofPlatform().daemon().start(() -> collect(process.getErrorStream(), stderr));
    }

    /** Starts a node with this HOCON text as its --config file (written into {@code dir}). */
    public static NodeProcess start(Path dir, String hocon) {
        return start(dir, hocon, Map.of());
    }

    public static NodeProcess start(Path dir, String hocon, Map<String, String> env) {
        return start(List.of(), dir, hocon, env);
    }

    /**
     * As {@link #start(Path, String, Map)}, the JVM run through {@code via}: a command prefix that execs it in
     * place, keeping the process (e.g. {@code ip netns exec NS} for a node in a network namespace).
     */
    public static NodeProcess start(List<String> via, Path dir, String hocon, Map<String, String> env) {
        return start(via, ClassDataArchive.forNode(), dir, hocon, env);
    }

    /** As {@link #start(List, Path, String, Map)}, with these JVM flags besides {@link Tools#jvmFlags()}. */
    static NodeProcess start(List<String> via, List<String> jvmFlags, Path dir, String hocon, Map<String, String> env) {
        try {
            Path config = Files.createTempFile(dir, "node-", ".hocon");
            Files.writeString(config, hocon);
            List<String> command = new ArrayList<>(via);
            command.add(Tools.java());
            command.addAll(Tools.jvmFlags());
            command.addAll(jvmFlags);
            command.addAll(List.of("-cp", ClassDataArchive.classPath(), "io.actortls.node.Main",
                    "node", "--config", config.toString()));
            ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
            builder.environment().put("ACTORTLS_LOG_FORMAT", "json");
            builder.environment().putAll(env);
            return new NodeProcess(builder.start(), config);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a node", e);
        }
    }

    /**
     * Runs the launcher as a user would, {@code ./actortls ARGS} from the repository's top directory (it may build
     * first). ACTORTLS_* variables of the test's environment are not passed on, so the documented defaults apply.
     */
    public static NodeProcess launch(String... launcherArgs) {
        List<String> command = new ArrayList<>();
        command.add(Tools.top().resolve("actortls").toString());
        command.addAll(List.of(launcherArgs));
        ProcessBuilder builder = new ProcessBuilder(command).directory(Tools.top().toFile());
        builder.environment().keySet().removeIf(name -> name.startsWith("ACTORTLS_"));
        try {
            return new NodeProcess(builder.start(), null);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command, e);
        }
    }

    /**
     * Runs {@code command} (e.g. docker/entrypoint.sh) in {@code dir} with {@code env} added to this environment,
     * ACTORTLS_* variables of the test's own environment removed.
     */
    public static NodeProcess run(Path dir, Map<String, String> env, List<String> command) {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().keySet().removeIf(name -> name.startsWith("ACTORTLS_"));
        builder.environment().putAll(env);
        try {
            return new NodeProcess(builder.start(), null);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command, e);
        }
    }

    /** Starts a node and waits until every listener is bound; a node that does not get there is stopped. */
    public static NodeProcess startReady(Path dir, String hocon) {
        NodeProcess node = start(dir, hocon);
        try {
            node.awaitReady(Duration.ofSeconds(30));
        } catch (RuntimeException | Error e) {
            node.close(); // nobody else holds it: left running, it would outlive the test JVM
            throw e;
        }
        return node;
    }

    public void awaitReady(Duration timeout) {
        awaitLog(line -> line.contains("ActorTls node ready"), timeout, "the node to become ready");
    }

    /** Waits for the process to exit and returns its exit code. */
    public int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
                throw new AssertionError("node did not exit within " + timeout + "\n" + output());
            stdoutReader.join(5000);
            stderrReader.join(5000);
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Sends SIGTERM and waits for the process to exit; returns its exit code. */
    public int stop(Duration timeout) {
        process.destroy();
        return awaitExit(timeout);
    }

    /** The process (for the launcher: the JVM it execs into), e.g. to find its children. */
    public ProcessHandle handle() {
        return process.toHandle();
    }

    /** The --config file the node was started with (null for {@link #launch}). */
    public Path configFile() {
        return configFile;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Resident set size of the node process, in KiB, from /proc. */
    public long rssKib() {
        return ProcessFigures.rssKib(process.pid());
    }

    public String stderrText() {
        return String.join("\n", stderr);
    }

    /** Everything the node printed so far. */
    public String output() {
        return "--- stdout\n" + String.join("\n", stdout) + "\n--- stderr\n" + stderrText();
    }

    /** The JSON records of closed connections logged so far (logger {@code actortls.connection}). */
    public List<JsonNode> closes() {
        List<JsonNode> closes = new ArrayList<>();
        for (String line : stdout) {
            if (!line.startsWith("{") || !line.contains("\"actortls.connection\"")) continue;
            try {
                closes.add(JSON.readTree(line));
            } catch (IOException e) {
                throw new AssertionError("unparsable log line: " + line, e);
            }
        }
        return closes;
    }

    /** Closed-connection records with this reason (e.g. "protocol-error"). */
    public List<JsonNode> closes(String reason) {
        return closes().stream().filter(c -> reason.equals(c.path("reason").asText())).toList();
    }

    /** Waits until at least {@code count} connections have closed with {@code reason}. */
    public List<JsonNode> awaitCloses(String reason, int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            List<JsonNode> found = closes(reason);
            if (found.size() >= count) return found;
            BackendProcess.sleep(50);
        }
        throw new AssertionError("expected " + count + " close(s) with reason " + reason + " within " + timeout
                + "; got " + closes().stream().map(c -> c.path("reason").asText()).toList() + "\n" + output());
    }

    /** Waits until this node sees {@code count} cluster members up. */
    public void awaitMembersUp(int count, Duration timeout) {
        awaitLog(line -> line.contains("members up: " + count), timeout, count + " cluster members up");
    }

    /** The JSON records logged so far whose message starts with {@code prefix}. */
    public List<JsonNode> records(String prefix) {
        List<JsonNode> found = new ArrayList<>();
        for (String line : stdout) {
            if (!line.startsWith("{") || !line.contains(prefix)) continue;
            try {
                JsonNode record = JSON.readTree(line);
                if (record.path("message").asText().startsWith(prefix)) found.add(record);
            } catch (IOException e) {
                throw new AssertionError("unparsable log line: " + line, e);
            }
        }
        return found;
    }

    /** Waits until at least {@code count} connections have closed, for any reason; returns all close records. */
    public List<JsonNode> awaitCloses(int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            List<JsonNode> found = closes();
            if (found.size() >= count) return found;
            BackendProcess.sleep(50);
        }
        throw new AssertionError("expected " + count + " close(s) within " + timeout + "; got "
                + closes().stream().map(c -> c.path("reason").asText()).toList() + "\n" + output());
    }

    /** Waits until at least {@code count} close records match {@code which}; returns those that match. */
    public List<JsonNode> awaitCloses(Predicate<JsonNode> which, int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<JsonNode> found = List.of();
        while (System.nanoTime() < deadline) {
            found = closes().stream().filter(which).toList();
            if (found.size() >= count) return found;
            BackendProcess.sleep(50);
        }
        throw new AssertionError("expected " + count + " matching close(s) within " + timeout + "; got " + found + "\n" + output());
    }

    /** Waits for the first close record that matches {@code record}, e.g. one for a given vhost. */
    public JsonNode awaitClose(Predicate<JsonNode> record, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (JsonNode close : closes()) if (record.test(close)) return close;
            BackendProcess.sleep(50);
        }
        throw new AssertionError("no close record for " + what + " within " + timeout + "; got "
                + closes().stream().map(c -> c.path("reason").asText() + "/" + c.path("vhost").asText()).toList()
                + "\n" + output());
    }

    /**
     * Waits for a JSON record whose message starts with {@code prefix} and that satisfies {@code test}, among those
     * logged from the {@code from}-th such record on (0: all of them), and returns the first one found.
     */
    public JsonNode awaitRecord(String prefix, int from, Predicate<JsonNode> test, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<JsonNode> found = records(prefix);
            for (JsonNode record : found.subList(Math.min(from, found.size()), found.size()))
                if (test.test(record)) return record;
            if (!process.isAlive())
                throw new AssertionError("node exited (" + process.exitValue() + ") while waiting for " + what + "\n" + output());
            if (System.nanoTime() >= deadline)
                throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; last " + prefix + " record: "
                        + (found.isEmpty() ? "none" : found.getLast()) + "\n" + output());
            BackendProcess.sleep(50);
        }
    }

    public void awaitLog(Predicate<String> line, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (stdout.stream().anyMatch(line)) return;
            if (!process.isAlive() && stdout.stream().noneMatch(line))
                throw new AssertionError("node exited (" + process.exitValue() + ") while waiting for " + what + "\n" + output());
            BackendProcess.sleep(50);
        }
        throw new AssertionError("timed out waiting for " + what + "\n" + output());
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void collect(java.io.InputStream stream, List<String> lines) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null; ) lines.add(line);
        } catch (IOException ignored) {
            // the process ended
        }
    }
}
