package io.actortls.proxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.time.Duration;
import jdk.net.ExtendedSocketOptions;
import org.apache.pekko.io.Inet;

/**
 * TCP keepalive with our idle time on a connected socket (client or backend): a peer that vanished without a
 * FIN or RST is found by the kernel after {@code idle} plus a few probes, instead of after the system default
 * of two hours.
 */
final class TcpKeepAlive extends Inet.AbstractSocketOptionV2 {
    private static final int PROBES = 3;
    private final Duration idle;

    TcpKeepAlive(Duration idle) {
        this.idle = idle;
    }

    @Override
    public void afterConnect(Socket socket) {
        try {
            int seconds = (int) Math.max(1, idle.toSeconds());
            socket.setKeepAlive(true);
            socket.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, seconds);
            socket.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, Math.max(1, seconds / PROBES));
            socket.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, PROBES);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
