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
 * One node's management API over plain HTTP, as a scraper or a script would call it, with the test token; also for
 * waiting on a state that takes a while (each {@link Cli} call starts a JVM). Tests still show final states through
 * the CLI.
 */
public final class ManagementApi {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String node;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** @param node the management API's host:port, e.g. {@link Hocon#management()} */
    public ManagementApi(String node) {
        this.node = node;
    }

    /** A finished call: the HTTP status (0 when the node could not be reached) and the body. */
    public record Answer(int status, String body) {
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (HTTP " + status + "): " + body, e);
            }
        }
    }

    /** {@code METHOD path} with this Authorization header (e.g. "Bearer TOKEN"); null sends none. */
    public HttpResponse<String> call(String method, String path, String authorization) {
        try {
            return send(method, path, authorization);
        } catch (IOException e) {
            throw new AssertionError(method + " " + path + " on " + node + " failed", e);
        }
    }

    /** {@code GET path} with the test token, for polling: a node that cannot be reached answers status 0. */
    public Answer answer(String path) {
        try {
            HttpResponse<String> response = send("GET", path, "Bearer " + Hocon.MANAGEMENT_TOKEN);
            return new Answer(response.statusCode(), response.body());
        } catch (IOException unreachable) {
            return new Answer(0, unreachable.toString());
        }
    }

    /** {@code GET path} with the test token; fails unless the answer is 200. */
    public String get(String path) {
        HttpResponse<String> response = call("GET", path, "Bearer " + Hocon.MANAGEMENT_TOKEN);
        if (response.statusCode() != 200)
            throw new AssertionError("GET " + path + " on " + node + ": " + response.statusCode() + " " + response.body());
        return response.body();
    }

    /** {@code GET /metrics}: every sample by its series as printed (name and labels), e.g. {@code x{reason="y"}}. */
    public Map<String, Double> metrics() {
        Map<String, Double> samples = new HashMap<>();
        for (String line : get("/metrics").lines().toList()) {
            if (line.startsWith("#") || line.isBlank()) continue;
            int space = line.lastIndexOf(' ');
            samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return samples;
    }

    /** One series of {@link #metrics()}, 0 when absent. */
    public double metric(String series) {
        return metrics().getOrDefault(series, 0.0);
    }

    private HttpResponse<String> send(String method, String path, String authorization) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + node + path)).timeout(TIMEOUT)
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (authorization != null) request.header("Authorization", authorization);
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
