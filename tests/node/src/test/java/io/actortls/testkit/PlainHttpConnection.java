package io.actortls.testkit;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One plain TCP connection to 127.0.0.1 that a test writes raw bytes to (a PROXY header, a request, garbage) and
 * reads HTTP/1.1 responses from, byte for byte as they arrive. Every read waits at most {@link #READ_BOUND}.
 */
public final class PlainHttpConnection implements AutoCloseable {
    public static final Duration READ_BOUND = Duration.ofSeconds(10);
    /** A bound on what a test reads back; far more than any response the tests expect. */
    private static final int MAX_READ_BYTES = 1 << 20;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private PlainHttpConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    public static PlainHttpConnection open(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), (int) READ_BOUND.toMillis());
        socket.setSoTimeout((int) READ_BOUND.toMillis());
        return new PlainHttpConnection(socket);
    }

    /** The status line's code and the header fields (names lower case) of one response. */
    public record Head(int status, Map<String, String> fields) {
        public String field(String name) {
            return fields.get(name.toLowerCase(Locale.ROOT));
        }
    }

    public record Response(Head head, String body) {
        public int status() {
            return head.status();
        }
    }

    public PlainHttpConnection write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    public PlainHttpConnection write(String text) throws IOException {
        return write(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** {@code GET path HTTP/1.1} with a Host field and {@code extraFields} (each a "Name: value" line). */
    public PlainHttpConnection get(String path, String... extraFields) throws IOException {
        StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (String field : extraFields) request.append(field).append("\r\n");
        return write(request.append("\r\n").toString());
    }

    /** Sends FIN: the server reads end of stream after what was written. */
    public void finishWriting() throws IOException {
        socket.shutdownOutput();
    }

    /** A whole response, its body framed by Content-Length, chunks, or the end of the connection. */
    public Response readResponse() throws IOException {
        Head head = readHead();
        String body;
        if (head.field("content-length") != null) {
            body = text(in.readNBytes(Integer.parseInt(head.field("content-length"))));
        } else if ("chunked".equals(head.field("transfer-encoding"))) {
            StringBuilder chunks = new StringBuilder();
            for (String chunk = readChunk(); chunk != null; chunk = readChunk()) chunks.append(chunk);
            body = chunks.toString();
        } else {
            body = text(readUntilClosed());
        }
        return new Response(head, body);
    }

    public Head readHead() throws IOException {
        String statusLine = readLine();
        if (!statusLine.startsWith("HTTP/1.1 ")) throw new IOException("not an HTTP/1.1 status line: " + statusLine);
        int status = Integer.parseInt(statusLine.substring(9, 12));
        Map<String, String> fields = new HashMap<>();
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            int colon = line.indexOf(':');
            fields.put(line.substring(0, colon).toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
        }
        return new Head(status, fields);
    }

    /** The next chunk's data, or null after the last chunk (and the empty trailer section). */
    public String readChunk() throws IOException {
        int size = Integer.parseInt(readLine(), 16);
        if (size == 0) {
            if (!readLine().isEmpty()) throw new IOException("trailer fields after the last chunk");
            return null;
        }
        String data = text(in.readNBytes(size));
        if (!readLine().isEmpty()) throw new IOException("a chunk longer than its size");
        return data;
    }

    /**
     * Reads until the server closes the connection (end of stream or reset) and returns what came first.
     *
     * @throws AssertionError if the connection is still open after READ_BOUND
     */
    public byte[] readUntilClosed() throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int n; received.size() < MAX_READ_BYTES && (n = in.read(buffer)) != -1; ) received.write(buffer, 0, n);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server did not close the connection within " + READ_BOUND
                    + "; received: " + text(received.toByteArray()));
        } catch (SocketException reset) {
            // a reset is a close too
        }
        return received.toByteArray();
    }

    private String readLine() throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b == -1) throw new IOException("the connection ended inside a line: " + line);
            if (line.length() > MAX_READ_BYTES) throw new IOException("a line without end");
            line.append((char) b);
        }
        if (line.isEmpty() || line.charAt(line.length() - 1) != '\r') throw new IOException("a line without CR: " + line);
        return line.substring(0, line.length() - 1);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
