package io.actortls.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/** Reads and changes the level of a logger of this JVM's Logback at runtime. */
public final class LogLevels {
    private LogLevels() {}

    /** The levels a logger can be set to; {@code INHERIT} clears a logger's own level (not the root's). */
    public static final List<String> LEVELS = List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF", "INHERIT");

    /**
     * @param level configured on the logger itself, or null when it inherits
     * @param effectiveLevel what it logs at, from itself or its nearest ancestor
     */
    public record LoggerLevel(String logger, String level, String effectiveLevel) {}

    /** @return the level in upper case, or empty if it is none of {@link #LEVELS} (or INHERIT for the root) */
    public static Optional<String> parse(String logger, String level) {
        String upper = level.strip().toUpperCase(Locale.ROOT);
        if (!LEVELS.contains(upper) || upper.equals("INHERIT") && isRoot(logger)) return Optional.empty();
        return Optional.of(upper);
    }

    public static LoggerLevel get(String logger) {
        Logger l = logger(logger);
        return new LoggerLevel(l.getName(), l.getLevel() == null ? null : l.getLevel().toString(),
                l.getEffectiveLevel().toString());
    }

    /** @param level one that {@link #parse} accepted */
    public static LoggerLevel set(String logger, String level) {
        logger(logger).setLevel(level.equals("INHERIT") ? null : Level.toLevel(level));
        return get(logger);
    }

    private static Logger logger(String name) {
        return ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(isRoot(name) ? Logger.ROOT_LOGGER_NAME : name);
    }

    private static boolean isRoot(String logger) {
        return logger.equalsIgnoreCase(Logger.ROOT_LOGGER_NAME);
    }
}
