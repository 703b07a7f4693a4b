package io.actortls.routing;

import java.util.Arrays;
import java.util.Optional;

/** What an operator decided for a server, independent of its health. */
public enum AdminState {
    /** Takes new connections when healthy. */
    ENABLED("enabled"),
    /** Takes no new connections; open ones stay until they end or the pool's drain deadline. */
    DRAINING("draining"),
    /** Takes no new connections; open ones are closed at once. */
    DISABLED("disabled");

    private final String label;

    AdminState(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static Optional<AdminState> fromLabel(String label) {
        return Arrays.stream(values()).filter(s -> s.label.equals(label)).findFirst();
    }
}
