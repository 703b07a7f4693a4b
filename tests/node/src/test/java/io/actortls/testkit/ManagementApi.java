package io.actortls.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * GET calls to a node's management API from the test JVM, for waiting on a state that takes a while (each
 * {@link Cli} call starts a JVM). Tests still show the final state through the CLI.
 */
public final class ManagementApi {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private ManagementApi() {}

    /** A finished call: the HTTP status and the body. */
    public record Answer(int status, String body) {
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (HTTP " + status + "): " + body, e);
            }
        }
    }

    /** {@code GET http://NODE/PATH} with the token; a node that cannot be reached answers status 0. */
    public static Answer get(String node, String token, String path) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + node + path))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10)).build();
        try {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            return new Answer(response.statusCode(), response.body());
        } catch (IOException unreachable) {
            return new Answer(0, unreachable.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    /** {@code GET /metrics}: every sample by its series as printed (name with labels), e.g. {@code actortls_connections_open}. */
    public static Map<String, Double> metrics(String node, String token) {
        Answer answer = get(node, token, "/metrics");
        if (answer.status() != 200) throw new AssertionError("GET /metrics of " + node + ": HTTP " + answer.status() + " " + answer.body());
        Map<String, Double> samples = new HashMap<>();
        for (String line : answer.body().lines().toList()) {
            if (line.isBlank() || line.startsWith("#")) continue;
            int space = line.lastIndexOf(' ');
            samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return samples;
    }
}
