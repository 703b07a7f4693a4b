package io.actortls.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import net.logstash.logback.encoder.LogstashEncoder;
import org.slf4j.LoggerFactory;

/**
 * The last log events of this JVM, kept in memory for {@code actortls log peek}: an appender on the root logger,
 * attached at node start in text and JSON logging alike, holding at most {@code actortls.log.memory-lines} events.
 *
 * <p>Appending only stores the event (its message already formatted, as any deferred appender needs); the lines
 * are formatted when someone peeks, so the logging threads pay for a short lock and an array write.
 *
 * <p>Logback is one per JVM, so this buffer is too: nodes sharing a JVM (in-process tests) share their recent
 * lines. Telling them apart by MDC would not work: every node's actor system has the same name, and most of the
 * lines (the access log, listeners' plain loggers) carry no actor MDC at all. A production node is a process of
 * its own, where the buffer is exactly the node's.
 */
public final class RecentLogLines extends AppenderBase<ILoggingEvent> {
    static final String NAME = "RECENT";
    /**
     * Like the console's text pattern, with the date (peeked lines may be from yesterday), one line per event: an
     * exception is appended as its class and message, not its stack trace.
     */
    private static final String TEXT_PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level %logger{24} - %msg%nopex";

    private final ILoggingEvent[] ring;
    private final Function<ILoggingEvent, String> format;
    private long appended; // guarded by this

    private RecentLogLines(int capacity, Function<ILoggingEvent, String> format) {
        this.ring = new ILoggingEvent[capacity];
        this.format = format;
    }

    /**
     * Attaches the buffer to the root logger, once per JVM; a later node in the same JVM gets the first one.
     *
     * @param capacity how many lines to keep (at least 1)
     * @param json     format the lines as the JSON encoder does, else as the text pattern does
     */
    public static synchronized RecentLogLines install(int capacity, boolean json) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        if (root.getAppender(NAME) instanceof RecentLogLines existing) return existing;
        RecentLogLines appender = new RecentLogLines(capacity, json ? jsonFormat(context) : textFormat(context));
        appender.setContext(context);
        appender.setName(NAME);
        appender.start();
        root.addAppender(appender);
        return appender;
    }

    @Override
    protected void append(ILoggingEvent event) {
        event.prepareForDeferredProcessing();
        synchronized (this) {
            ring[(int) (appended++ % ring.length)] = event;
        }
    }

    /** The last {@code n} lines (fewer if fewer were logged), oldest first, each on one line. */
    public List<String> last(int n) {
        List<ILoggingEvent> events = new ArrayList<>();
        synchronized (this) {
            long from = Math.max(appended - Math.min(n, ring.length), 0);
            for (long i = from; i < appended; i++) events.add(ring[(int) (i % ring.length)]);
        }
        return events.stream().map(format).map(line -> line.stripTrailing().replaceAll("[\\r\\n]+", " ")).toList();
    }

    public int capacity() {
        return ring.length;
    }

    private static Function<ILoggingEvent, String> textFormat(LoggerContext context) {
        PatternLayout layout = new PatternLayout();
        layout.setContext(context);
        layout.setPattern(TEXT_PATTERN);
        layout.start();
        return event -> {
            IThrowableProxy failure = event.getThrowableProxy();
            String line = layout.doLayout(event);
            return failure == null ? line : line + " (" + failure.getClassName() + ": " + failure.getMessage() + ")";
        };
    }

    private static Function<ILoggingEvent, String> jsonFormat(LoggerContext context) {
        LogstashEncoder encoder = new LogstashEncoder();
        encoder.setContext(context);
        encoder.start();
        return event -> new String(encoder.encode(event), StandardCharsets.UTF_8);
    }
}
