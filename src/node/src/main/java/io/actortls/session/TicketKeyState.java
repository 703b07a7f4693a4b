package io.actortls.session;

/**
 * The generation and age of the ticket keys this node has installed (never the keys), for statistics.
 * Written by {@link TicketKeyInstaller}, read by anyone.
 */
public final class TicketKeyState {
    private volatile long generation;
    private volatile long createdAt;

    void installed(TicketKeyGeneration keys) {
        createdAt = keys.createdAt();
        generation = keys.generation();
    }

    public long generation() {
        return generation;
    }

    public long ageSeconds() {
        return generation == 0 ? 0 : Math.max(0, (System.currentTimeMillis() - createdAt) / 1000);
    }
}
