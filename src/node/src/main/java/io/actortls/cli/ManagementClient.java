package io.actortls.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/** HTTP client of one node's management API: JSON in and out, every failure a {@link CliFailure} with its cause. */
final class ManagementClient {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
    static final ObjectMapper MAPPER = new ObjectMapper();

    private final Target target;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();

    ManagementClient(Target target) {
        this.target = target;
    }

    JsonNode get(String path, String... query) {
        return json(send("GET", path, query, HttpResponse.BodyHandlers.ofString()).body());
    }

    JsonNode post(String path, String... query) {
        return json(send("POST", path, query, HttpResponse.BodyHandlers.ofString()).body());
    }

    JsonNode put(String path, String... query) {
        return json(send("PUT", path, query, HttpResponse.BodyHandlers.ofString()).body());
    }

    JsonNode delete(String path, String... query) {
        return json(send("DELETE", path, query, HttpResponse.BodyHandlers.ofString()).body());
    }

    String getText(String path, String... query) {
        return send("GET", path, query, HttpResponse.BodyHandlers.ofString()).body();
    }

    /** Reads a stream of JSON lines until {@code each} returns false, the stream ends, or {@code limit} passes. */
    void stream(String path, Duration limit, Predicate<JsonNode> each) {
        var response = send("GET", path, new String[0], HttpResponse.BodyHandlers.ofInputStream());
        long deadline = System.nanoTime() + limit.toNanos();
        try (InputStream body = response.body();
             var reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            Thread closer = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(limit);
                    body.close();
                } catch (InterruptedException | IOException ignored) {
                    // the stream ended first
                }
            });
            try {
                for (String line; System.nanoTime() < deadline && (line = reader.readLine()) != null; )
                    if (!line.isBlank() && !each.test(json(line))) break;
            } finally {
                closer.interrupt();
            }
        } catch (IOException e) {
            if (System.nanoTime() < deadline) throw new CliFailure("the event stream from " + target.node() + " broke: " + e.getMessage());
        }
    }

    private <T> HttpResponse<T> send(String method, String path, String[] query, HttpResponse.BodyHandler<T> handler) {
        URI uri = URI.create("http://" + target.node() + path + queryString(query));
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(CALL_TIMEOUT)
                .header("Authorization", "Bearer " + target.token())
                .header("X-ActorTls-Client", "actortls-cli") // names the CLI in the nodes' audit log
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<T> response;
        try {
            response = http.send(request, handler);
        } catch (HttpConnectTimeoutException | ConnectException e) {
            throw new CliFailure("cannot reach the management API at " + target.node() + " ("
                    + (e instanceof ConnectException ? "connection refused" : "connect timed out") + "): is the node running? Point elsewhere with --node host:port or ACTORTLS_NODE");
        } catch (HttpTimeoutException e) {
            throw new CliFailure("the node at " + target.node() + " did not answer within " + CALL_TIMEOUT.toSeconds() + " s");
        } catch (IOException e) {
            throw new CliFailure("cannot talk to " + target.node() + ": " + describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliFailure("interrupted");
        }
        int status = response.statusCode();
        if (status / 100 == 2) return response;
        String message = errorOf(response.body());
        if (status == 401)
            throw new CliFailure("the node at " + target.node() + " refused the call (401): " + message
                    + "; give the token with --token or ACTORTLS_MANAGEMENT_TOKEN");
        throw new CliFailure(message + " (" + status + ")");
    }

    private static String errorOf(Object body) {
        String text = body instanceof String s ? s : "";
        if (body instanceof InputStream in) {
            try (in) {
                text = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
            } catch (IOException e) {
                text = "";
            }
        }
        try {
            JsonNode node = MAPPER.readTree(text);
            if (node != null && node.hasNonNull("error")) return node.get("error").asText();
        } catch (IOException notJson) {
            // fall through to the raw text
        }
        return text.isBlank() ? "no reason given" : text.strip();
    }

    /** A name as one path segment (pools and servers are named freely in the configuration). */
    static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String queryString(String[] pairs) {
        Map<String, String> query = new LinkedHashMap<>();
        for (int i = 0; i + 1 < pairs.length; i += 2) if (pairs[i + 1] != null) query.put(pairs[i], pairs[i + 1]);
        if (query.isEmpty()) return "";
        return "?" + query.entrySet().stream().map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
    }

    private static JsonNode json(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (IOException e) {
            throw new CliFailure("the node answered something that is not JSON: " + text.lines().findFirst().orElse(""));
        }
    }

    private static String describe(Exception e) {
        Throwable t = e;
        while (t.getCause() != null && t.getMessage() == null) t = t.getCause();
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
