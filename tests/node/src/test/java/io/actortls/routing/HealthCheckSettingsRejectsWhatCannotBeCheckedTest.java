package io.actortls.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;

/** Settings that could not run a check, and a checker for kind NONE, are refused where they are made. */
class HealthCheckSettingsRejectsWhatCannotBeCheckedTest extends ActorTestKitPerClass {
    private static final Duration SECOND = Duration.ofSeconds(1);

    @Test
    void settingsOutOfRangeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> HealthCheckSettings.tcp(Duration.ZERO, SECOND, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> HealthCheckSettings.tcp(SECOND, null, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> HealthCheckSettings.tcp(SECOND, SECOND, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> HealthCheckSettings.tcp(SECOND, SECOND, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> HealthCheckSettings.http(SECOND, SECOND, 1, 1, "health", null, 200));
        assertThrows(IllegalArgumentException.class,
                () -> HealthCheckSettings.http(SECOND, SECOND, 1, 1, "/x HTTP/1.0\r\nX-Evil: 1", null, 200));
        assertThrows(IllegalArgumentException.class, () -> HealthCheckSettings.http(SECOND, SECOND, 1, 1, "/", "a\r\nb", 200));
        assertThrows(IllegalArgumentException.class, () -> HealthCheckSettings.http(SECOND, SECOND, 1, 1, "/", null, 99));
        assertEquals("/", HealthCheckSettings.http(SECOND, SECOND, 1, 1, null, null, 200).httpPath());
    }

    @Test
    void aCheckerForKindNoneIsRefused() {
        TestProbe<HealthChecker.Report> reports = testKit.createTestProbe(HealthChecker.Report.class);
        assertThrows(IllegalArgumentException.class,
                () -> HealthChecker.create("x", "127.0.0.1", 80, HealthCheckSettings.none(), reports.getRef()));
        HealthCheckSettings tcp = HealthCheckSettings.tcp(SECOND, SECOND, 1, 1);
        assertThrows(IllegalArgumentException.class, () -> HealthChecker.create("x", "127.0.0.1", 0, tcp, reports.getRef()));
        assertThrows(IllegalArgumentException.class, () -> HealthChecker.create("x", " ", 80, tcp, reports.getRef()));
    }
}
