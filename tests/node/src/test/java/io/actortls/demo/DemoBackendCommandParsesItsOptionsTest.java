package io.actortls.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.Run;
import io.actortls.testkit.Tools;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code actortls demo-backend} as its own process: {@code --name} and {@code --accept-proxy} take effect (curl's
 * {@code --haproxy-protocol} sends a v1 header), and bad arguments exit with the usage status 2 before listening.
 */
class DemoBackendCommandParsesItsOptionsTest {
    private static final Duration START_BOUND = Duration.ofSeconds(30);
    private static final Duration RUN_BOUND = Duration.ofSeconds(30);

    @Test
    void acceptProxyAndNameTakeEffect() throws Exception {
        int port = Tools.freePort();
        Process backend = new ProcessBuilder(command("--port", Integer.toString(port), "--name", "cli-backend", "--accept-proxy"))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            awaitListening(port, backend);
            Run hello = curl("http://127.0.0.1:" + port + "/");
            assertEquals("Hello from cli-backend\n", hello.out(), hello.all());
            Run proxy = curl("--haproxy-protocol", "http://127.0.0.1:" + port + "/proxy");
            assertTrue(proxy.out().matches("version=1\nsource=127\\.0\\.0\\.1:[0-9]+\ndestination=127\\.0\\.0\\.1:" + port + "\n"),
                    proxy.all());
        } finally {
            backend.destroy();
            if (!backend.waitFor(10, TimeUnit.SECONDS)) backend.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "--port", "--port 0", "--port 65536", "--port x", "--port 1 --name", "--port 1 --bogus"})
    void badArgumentsExitWithTheUsageStatus(String arguments) {
        List<String> args = arguments.isEmpty() ? List.of() : List.of(arguments.split(" "));
        Run run = Run.of(command(args.toArray(String[]::new)), null, RUN_BOUND);
        assertEquals(2, run.exitCode(), run.all());
        assertTrue(run.stderr().contains("usage: actortls"), run.all());
    }

    @Test
    void aNameThatCannotBeAHeaderValueIsRefused() {
        Run run = Run.of(command("--port", Integer.toString(Tools.freePort()), "--name", "two\nlines"), null, RUN_BOUND);
        assertEquals(2, run.exitCode(), run.all());
        assertTrue(run.stderr().contains("--name needs a name in printable ASCII"), run.all());
    }

    private static List<String> command(String... args) {
        List<String> command = new ArrayList<>(List.of(Tools.java()));
        command.addAll(Tools.jvmFlags());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.actortls.node.Main", "demo-backend"));
        command.addAll(List.of(args));
        return command;
    }

    private static Run curl(String... args) {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20"));
        command.addAll(List.of(args));
        return Run.of(command, null, RUN_BOUND);
    }

    private static void awaitListening(int port, Process backend) throws InterruptedException {
        long deadline = System.nanoTime() + START_BOUND.toNanos();
        while (!Tools.isListening(port)) {
            assertTrue(backend.isAlive(), "the backend exited with " + (backend.isAlive() ? "" : backend.exitValue()));
            assertTrue(System.nanoTime() < deadline, "the backend did not listen within " + START_BOUND);
            Thread.sleep(50);
        }
    }
}
