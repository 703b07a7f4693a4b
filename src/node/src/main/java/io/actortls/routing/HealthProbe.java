package io.actortls.routing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One health check's blocking socket work, run by {@link HealthChecker} on a virtual thread. Everything it does is
 * bounded by the settings' timeout, and {@link #abort()}, from any thread, closes its socket so that it ends at once:
 * the checker aborts a check that outlives its timeout (name resolution, which no socket timeout bounds) and the
 * one still running when it stops. Nothing it meets is thrown: every problem is a failed check with a reason.
 */
final class HealthProbe {
    /** A check's verdict; {@code reason} is what an operator reads in the log ("connect refused", "HTTP 503"). */
    record Result(boolean passed, String reason) {}

    /** Longer than any status line a health endpoint sends; more without a line break is not HTTP. */
    private static final int MAX_STATUS_LINE = 8192;
    private static final Pattern STATUS_LINE = Pattern.compile("HTTP/\\d(?:\\.\\d)? (\\d{3})(?: .*)?");

    private final String host;
    private final int port;
    private final HealthCheckSettings settings;
    private Socket socket;   // guarded by this
    private boolean aborted; // guarded by this

    HealthProbe(String host, int port, HealthCheckSettings settings) {
        this.host = host;
        this.port = port;
        this.settings = settings;
    }

    /** Runs the check; call once. After {@link #abort()} its result means nothing (see {@link #aborted()}). */
    Result run() {
        long deadline = System.nanoTime() + settings.timeout().toNanos();
        Socket s = new Socket();
        try {
            if (!adopt(s)) return new Result(false, "aborted");
            InetSocketAddress address = new InetSocketAddress(host, port); // resolves the name; abort() bounds that
            if (address.isUnresolved()) return new Result(false, "unknown host " + host);
            s.connect(address, remainingMillis(deadline));
            if (settings.kind() == HealthCheckSettings.Kind.TCP) return new Result(true, "connected");
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            out.write(request());
            out.flush();
            String line = readStatusLine(s, deadline);
            if (line == null) return new Result(false, "connection closed before the status line");
            Matcher m = STATUS_LINE.matcher(line);
            if (!m.matches()) return new Result(false, "bad status line: " + printable(line));
            int status = Integer.parseInt(m.group(1));
            return new Result(status == settings.expectStatus(), "HTTP " + status);
        } catch (SocketTimeoutException e) {
            return new Result(false, "timeout after " + settings.timeout().toMillis() + " ms");
        } catch (ConnectException e) {
            String message = String.valueOf(e.getMessage());
            return new Result(false, message.toLowerCase().contains("refused") ? "connect refused" : "connect failed: " + message);
        } catch (IOException e) {
            return new Result(false, "I/O error: " + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()));
        } catch (Throwable e) { // a bug here is still a failed check, never a lost one
            return new Result(false, "check error: " + e);
        } finally {
            closeQuietly(s);
        }
    }

    /** Ends the check from any thread: closes its socket now, and any socket it would open later. */
    void abort() {
        Socket s;
        synchronized (this) {
            aborted = true;
            s = socket;
        }
        closeQuietly(s);
    }

    synchronized boolean aborted() {
        return aborted;
    }

    /** The request, byte for byte; {@code Connection: close} so that the server does not hold the connection. */
    byte[] request() {
        String hostHeader = settings.httpHost() != null ? settings.httpHost() : authority(host, port);
        return ("GET " + settings.httpPath() + " HTTP/1.1\r\nHost: " + hostHeader
                + "\r\nUser-Agent: actortls-health\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private synchronized boolean adopt(Socket s) {
        if (aborted) return false;
        socket = s;
        return true;
    }

    /** Reads up to the first line break, each read bounded by what is left of the deadline; null at end of stream. */
    private static String readStatusLine(Socket s, long deadline) throws IOException {
        InputStream in = s.getInputStream();
        byte[] buffer = new byte[MAX_STATUS_LINE];
        int filled = 0;
        while (filled < buffer.length) {
            s.setSoTimeout(remainingMillis(deadline));
            int n = in.read(buffer, filled, buffer.length - filled);
            if (n < 0) return null;
            for (int i = filled; i < filled + n; i++) {
                if (buffer[i] == '\n') {
                    int end = i > 0 && buffer[i - 1] == '\r' ? i - 1 : i;
                    return new String(buffer, 0, end, StandardCharsets.ISO_8859_1);
                }
            }
            filled += n;
        }
        return new String(buffer, 0, 60, StandardCharsets.ISO_8859_1) + "... (no line break in " + MAX_STATUS_LINE + " bytes)";
    }

    /** Never 0: to Socket, a 0 timeout means "wait forever". */
    private static int remainingMillis(long deadline) throws SocketTimeoutException {
        long nanos = deadline - System.nanoTime();
        if (nanos <= 0) throw new SocketTimeoutException();
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, (nanos + 999_999) / 1_000_000));
    }

    static String authority(String host, int port) {
        return (host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }

    private static String printable(String line) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < line.length() && out.length() < 80; i++) {
            char c = line.charAt(i);
            out.append(c >= ' ' && c < 0x7f ? c : '?');
        }
        return out.toString();
    }

    private static void closeQuietly(Socket s) {
        if (s == null) return;
        try {
            s.close();
        } catch (IOException ignored) {
            // closing is all we wanted; there is nothing left to do with it
        }
    }
}
