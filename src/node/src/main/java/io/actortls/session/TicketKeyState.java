package io.actortls.session;

/**
 * The generation and age of the ticket keys this node has installed (never the keys), for statistics.
 * Written by {@link TicketKeyInstaller}, read by anyone.
 */
public final class TicketKeyState {
    private volatile long generation;
    private volatile long createdAt;
    private volatile long installedAt;
    private volatile long previousCreatedAt;

    void installed(TicketKeyGeneration keys) {
        // The previous generation's age is known when this node saw it become current.
        previousCreatedAt = keys.generation() == generation + 1 ? createdAt : 0;
        createdAt = keys.createdAt();
        installedAt = System.currentTimeMillis();
        generation = keys.generation();
    }

    /** Epoch milliseconds the current generation was made (by the rotator), 0 before the first. */
    public long createdAt() {
        return createdAt;
    }

    /** Epoch milliseconds this node installed the current generation, 0 before the first. */
    public long installedAt() {
        return installedAt;
    }

    /** Epoch milliseconds the previous generation was made, 0 if there is none or this node never held it. */
    public long previousCreatedAt() {
        return previousCreatedAt;
    }

    public long generation() {
        return generation;
    }

    public long ageSeconds() {
        return generation == 0 ? 0 : Math.max(0, (System.currentTimeMillis() - createdAt) / 1000);
    }
}
