package io.actortls.demo;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The request line and header fields of one HTTP/1.0 or HTTP/1.1 request (RFC 9112), as far as the demo backend
 * needs them, read strictly and within a size bound. What it does not support it rejects rather than misreads:
 * targets other than origin-form ({@code /path?query}), obsolete line folding, leading empty lines (so a PROXY v2
 * header sent to a backend that does not expect one is refused at once), and request bodies in a transfer coding.
 *
 * @param contentLength the request body's length, which the caller must read past before the next request
 * @param persistent    whether the connection stays open after the response (HTTP/1.1 unless {@code Connection:
 *                      close}; HTTP/1.0 only with {@code Connection: keep-alive})
 */
record HttpRequestHead(String method, String path, String query, String version, long contentLength, boolean persistent) {

    /** The request cannot be served; answer {@code status} and close the connection. */
    static final class Rejected extends Exception {
        final int status;

        Rejected(int status, String reason) {
            super(reason);
            this.status = status;
        }
    }

    static final int BAD_REQUEST = 400;
    static final int HEADER_FIELDS_TOO_LARGE = 431;
    static final int NOT_IMPLEMENTED = 501;

    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    /** Visible ASCII: a target holds no spaces, controls or raw non-ASCII bytes. */
    private static final Pattern ORIGIN_FORM = Pattern.compile("/[\\x21-\\x7E]*");
    /** Field values: visible characters, spaces, tabs and obs-text (bytes 0x80-0xFF), nothing else. */
    private static final Pattern FIELD_VALUE = Pattern.compile("[\\t\\x20-\\x7E\\x80-\\xFF]*");
    private static final Pattern DECIMAL = Pattern.compile("[0-9]{1,18}");

    boolean http11() {
        return version.equals("HTTP/1.1");
    }

    /**
     * Reads one request head. The request line and every field line count towards {@code maxBytes}, line ends
     * included.
     *
     * @return null if the connection ended before the first byte of a request (a client closing a kept-alive
     *         connection)
     * @throws Rejected    if the head is malformed, larger than {@code maxBytes}, or asks for what is not supported
     * @throws EOFException if the connection ended inside the head
     */
    static HttpRequestHead read(InputStream in, int maxBytes) throws IOException, Rejected {
        LineReader lines = new LineReader(in, maxBytes);
        String requestLine = lines.next();
        if (requestLine == null) return null;
        String[] parts = requestLine.split(" ", -1);
        if (parts.length != 3) throw new Rejected(BAD_REQUEST, "the request line is not METHOD TARGET VERSION");
        String method = parts[0];
        String target = parts[1];
        String version = parts[2];
        if (!TOKEN.matcher(method).matches()) throw new Rejected(BAD_REQUEST, "the method is not a token");
        if (!ORIGIN_FORM.matcher(target).matches()) throw new Rejected(BAD_REQUEST, "the target is not /path?query");
        if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0"))
            throw new Rejected(BAD_REQUEST, "the version is not HTTP/1.1 or HTTP/1.0");

        Map<String, List<String>> fields = new HashMap<>();
        for (String line = lines.next(); !line.isEmpty(); line = lines.next()) {
            if (line.startsWith(" ") || line.startsWith("\t"))
                throw new Rejected(BAD_REQUEST, "obsolete line folding");
            int colon = line.indexOf(':');
            String name = colon < 0 ? "" : line.substring(0, colon);
            // A space before the colon is refused outright (RFC 9112 5.1): proxies disagree on what it means.
            if (!TOKEN.matcher(name).matches()) throw new Rejected(BAD_REQUEST, "a field line is not NAME: VALUE");
            String value = line.substring(colon + 1).strip();
            if (!FIELD_VALUE.matcher(value).matches())
                throw new Rejected(BAD_REQUEST, "field " + name + " holds a control character");
            fields.computeIfAbsent(name.toLowerCase(Locale.ROOT), n -> new ArrayList<>()).add(value);
        }

        int hosts = fields.getOrDefault("host", List.of()).size();
        if (hosts > 1 || (hosts == 0 && version.equals("HTTP/1.1")))
            throw new Rejected(BAD_REQUEST, "an HTTP/1.1 request needs exactly one Host field");
        if (fields.containsKey("transfer-encoding"))
            throw new Rejected(NOT_IMPLEMENTED, "request bodies in a transfer coding are not supported");
        List<String> connection = listElements(fields.get("connection"));
        boolean persistent = !connection.contains("close")
                && (version.equals("HTTP/1.1") || connection.contains("keep-alive"));
        int query = target.indexOf('?');
        return new HttpRequestHead(method, query < 0 ? target : target.substring(0, query),
                query < 0 ? "" : target.substring(query + 1), version, contentLength(fields.get("content-length")),
                persistent);
    }

    /**
     * Content-Length may be repeated, as fields or as a list, but only with one value (RFC 9110 8.6); any other
     * form could frame the body differently here than in a proxy in front, so it is refused.
     */
    private static long contentLength(List<String> values) throws Rejected {
        if (values == null) return 0;
        List<String> lengths = new ArrayList<>();
        for (String value : values) for (String element : value.split(",", -1)) lengths.add(element.strip());
        String first = lengths.getFirst();
        if (!DECIMAL.matcher(first).matches() || lengths.stream().anyMatch(length -> !length.equals(first)))
            throw new Rejected(BAD_REQUEST, "Content-Length is not one decimal number");
        return Long.parseLong(first);
    }

    /** The comma-separated elements of a list field, lower case, empty ones dropped. */
    private static List<String> listElements(List<String> values) {
        if (values == null) return List.of();
        List<String> elements = new ArrayList<>();
        for (String value : values)
            for (String element : value.split(","))
                if (!element.isBlank()) elements.add(element.strip().toLowerCase(Locale.ROOT));
        return elements;
    }

    /** Lines ending in CRLF (or a lone LF, which RFC 9112 2.2 lets a server accept), charged to one byte budget. */
    private static final class LineReader {
        private final InputStream in;
        private int bytesLeft;
        private boolean started;

        LineReader(InputStream in, int maxBytes) {
            this.in = in;
            this.bytesLeft = maxBytes;
        }

        /** The next line without its line end; null only at end of stream before the head's first byte. */
        String next() throws IOException, Rejected {
            StringBuilder line = new StringBuilder();
            for (int b = in.read(); b != '\n'; b = in.read()) {
                if (b == -1) {
                    if (!started) return null;
                    throw new EOFException("the connection ended inside a request head");
                }
                charge();
                line.append((char) b); // ISO-8859-1: each byte one char, so obs-text survives as itself
            }
            charge();
            if (!line.isEmpty() && line.charAt(line.length() - 1) == '\r') line.setLength(line.length() - 1);
            if (line.indexOf("\r") >= 0) throw new Rejected(BAD_REQUEST, "a CR inside a line");
            return line.toString();
        }

        private void charge() throws Rejected {
            started = true;
            if (--bytesLeft < 0)
                throw new Rejected(HEADER_FIELDS_TOO_LARGE, "the request head is larger than the server accepts");
        }
    }
}
