package io.actortls.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a process holds, read from /proc and from the JDK's own jcmd (as bench/soak.sh reads them): resident
 * memory, file descriptors, sockets, the live Java heap, and its open-files limit.
 */
public final class ProcessFigures {
    private ProcessFigures() {}

    /** One heap of G1 ("garbage-first heap"), or each generation of the serial and parallel collectors. */
    private static final Pattern HEAP_USED = Pattern.compile("total [^\\n]*?used (\\d+)K");
    private static final Pattern MAX_OPEN_FILES = Pattern.compile("^Max open files\\s+(\\d+)\\s+(\\d+)", Pattern.MULTILINE);

    /** Resident set size in KiB (VmRSS). */
    public static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status")))
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no VmRSS for pid " + pid);
    }

    /** Open file descriptors. */
    public static int fileDescriptors(long pid) {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Open file descriptors that are sockets (TCP connections, listening sockets, and the like). */
    public static int sockets(long pid) {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return (int) fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("socket:");
                } catch (IOException closedMeanwhile) {
                    return false;
                }
            }).count();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The soft limit on open files ("Max open files" in /proc/PID/limits). */
    public static long openFilesLimit(long pid) {
        try {
            Matcher m = MAX_OPEN_FILES.matcher(Files.readString(Path.of("/proc/" + pid + "/limits")));
            if (m.find()) return Long.parseLong(m.group(1));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no open-files limit for pid " + pid);
    }

    /** The Java heap still in use after a full collection, in KiB: {@code jcmd PID GC.run}, then GC.heap_info. */
    public static long liveHeapKib(long pid) {
        jcmd(pid, "GC.run");
        String info = jcmd(pid, "GC.heap_info");
        Matcher m = HEAP_USED.matcher(info);
        long usedKib = 0;
        boolean found = false;
        while (m.find()) {
            usedKib += Long.parseLong(m.group(1));
            found = true;
        }
        if (!found) throw new AssertionError("no heap figure in jcmd GC.heap_info:\n" + info);
        return usedKib;
    }

    private static String jcmd(long pid, String command) {
        Path jcmd = Path.of(Tools.java()).resolveSibling("jcmd");
        Run run = Run.of(List.of(jcmd.toString(), Long.toString(pid), command), null, Duration.ofSeconds(60));
        if (run.exitCode() != 0) throw new AssertionError("jcmd " + pid + " " + command + " failed:\n" + run.all());
        return run.out();
    }
}
