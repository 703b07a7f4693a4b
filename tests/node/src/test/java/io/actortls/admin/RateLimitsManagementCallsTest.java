package io.actortls.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The management API's rate limits on a real node: guesses of the token are slowed to a few per minute (429 with
 * Retry-After) while the right token keeps working, and a flood of calls gets 429 beyond the node's call rate.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RateLimitsManagementCallsTest {
    private static final int FAILED_LOGINS_PER_MINUTE = 3;
    private static final int CALLS_PER_SECOND = 20;

    @TempDir
    static Path dir;
    private DemoBackendProcess backend;
    private TestCluster cluster;
    private String management;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void startNode() {
        TestPki pki = new TestPki(dir);
        TestPki.Cert localhost = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        backend = DemoBackendProcess.start("r-1");
        cluster = TestCluster.start(dir, 1, (i, hocon) -> {
            management = hocon.management();
            return hocon.pooledVhost("localhost", localhost, List.of("localhost"), "demo")
                    .pool("demo", List.of(backend.server(1)))
                    .with("management.failed-logins-per-minute = " + FAILED_LOGINS_PER_MINUTE)
                    .with("management.calls-per-second = " + CALLS_PER_SECOND)
                    .render();
        });
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        if (backend != null) backend.close();
    }

    @Test
    void slowsTokenGuessesAndFloodsButNotTheRightToken() throws Exception {
        for (int i = 0; i < FAILED_LOGINS_PER_MINUTE; i++)
            assertEquals(401, call("wrong-token-" + i).statusCode(), "guess " + (i + 1) + " is only refused");
        HttpResponse<String> limited = call("wrong-token-x");
        assertEquals(429, limited.statusCode(), limited.body());
        long retryAfter = Long.parseLong(limited.headers().firstValue("Retry-After").orElse("0"));
        assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);
        assertEquals(429, call(null).statusCode(), "no token at all counts as a guess too");
        assertEquals(200, call(Hocon.MANAGEMENT_TOKEN).statusCode(), "the right token still works");
        assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://" + management + "/alive")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode(), "health checks are never limited");

        Thread.sleep(1100); // a full bucket of calls again
        int served = 0, limitedCalls = 0;
        long start = System.nanoTime();
        for (int i = 0; i < 4 * CALLS_PER_SECOND; i++) {
            int status = call(Hocon.MANAGEMENT_TOKEN).statusCode();
            if (status == 200) served++;
            else if (status == 429) limitedCalls++;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        // At most the burst plus what refilled meanwhile was served; the rest got 429.
        assertTrue(served >= CALLS_PER_SECOND && served <= CALLS_PER_SECOND + Math.ceil(seconds * CALLS_PER_SECOND) + 1,
                served + " served in " + seconds + " s");
        assertEquals(4 * CALLS_PER_SECOND, served + limitedCalls, "every call was served or limited");
        if (seconds < 2) assertTrue(limitedCalls > 0, "a flood of " + (4 * CALLS_PER_SECOND) + " calls in " + seconds + " s");
        Thread.sleep(1100);
        assertEquals(200, call(Hocon.MANAGEMENT_TOKEN).statusCode(), "served again once the flood is over");
    }

    private HttpResponse<String> call(String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + management + "/cluster"));
        if (token != null) request.header("Authorization", "Bearer " + token);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
