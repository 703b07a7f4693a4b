package io.actortls.proxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import jdk.net.ExtendedSocketOptions;

/**
 * One non-blocking TCP socket of a connection actor, registered with the actor's {@link IoLoop}. Plain state of
 * that one actor, used on its loop's thread only.
 *
 * <p>Reading is on demand: the actor says whether it wants input ({@link #wantInput}); the loop reports readiness
 * only then, so an actor that stops wanting input is back-pressure all the way to the peer's TCP window.
 * Writing goes straight to the kernel; what the kernel does not take at once waits here ({@link #isBusy()} is
 * then true) until the socket is writable again. {@link #finish()} sends FIN after the waiting bytes;
 * {@link #abort()} resets the connection at once.
 */
final class TcpSocket {
    private static final int KEEPALIVE_PROBES = 3;
    /** Reads of unread input before a close, so that the kernel does not answer the close with a reset. */
    private static final int DRAIN_READS_BEFORE_CLOSE = 4;

    private final SocketChannel channel;
    private final SelectionKey key;
    private boolean connecting;
    private boolean wantInput;
    private ByteBuffer waiting;             // written but not yet taken by the kernel; null when none
    private boolean finishRequested;
    private boolean outputEnded;            // FIN sent, reset, or closed: nothing more goes out
    private boolean closed;

    private TcpSocket(SocketChannel channel, IoLoop loop, boolean connecting, IoLoop.Readiness readiness) throws IOException {
        this.channel = channel;
        this.connecting = connecting;
        this.key = loop.register(channel, connecting ? SelectionKey.OP_CONNECT : 0, readiness);
    }

    /** A socket the listener accepted. */
    static TcpSocket accepted(SocketChannel channel, IoLoop loop, Duration keepAlive, IoLoop.Readiness readiness)
            throws IOException {
        configure(channel, keepAlive);
        return new TcpSocket(channel, loop, false, readiness);
    }

    /** Starts connecting to {@code address}; readiness then reports {@link SelectionKey#OP_CONNECT}. */
    static TcpSocket connect(InetSocketAddress address, IoLoop loop, Duration keepAlive, IoLoop.Readiness readiness)
            throws IOException {
        SocketChannel channel = SocketChannel.open();
        try {
            configure(channel, keepAlive);
            return new TcpSocket(channel, loop, !channel.connect(address), readiness);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** TCP_NODELAY: TLS records are whole messages, Nagle would only delay them. Keepalive with our idle time. */
    private static void configure(SocketChannel channel, Duration keepAlive) throws IOException {
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        if (!keepAlive.isZero()) {
            int seconds = (int) Math.max(1, keepAlive.toSeconds());
            channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            channel.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, seconds);
            channel.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, Math.max(1, seconds / KEEPALIVE_PROBES));
            channel.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, KEEPALIVE_PROBES);
        }
    }

    /**
     * Completes a connect after {@link SelectionKey#OP_CONNECT}.
     *
     * @return true once connected (bytes offered meanwhile are then sent)
     * @throws IOException the connection was refused or failed
     */
    boolean finishConnect() throws IOException {
        if (!connecting) return true;
        if (!channel.finishConnect()) return false;
        connecting = false;
        flush();
        return true;
    }

    boolean isConnected() {
        return !connecting && !closed;
    }

    /**
     * Reads what the kernel has, into {@code into}.
     *
     * @return bytes read, 0 if none, -1 at the peer's FIN
     * @throws IOException the peer reset the connection
     */
    int read(ByteBuffer into) throws IOException {
        if (closed || connecting) return 0;
        return channel.read(into);
    }

    /** Whether the actor wants to hear that input arrived. */
    void wantInput(boolean want) {
        if (want == wantInput) return;
        wantInput = want;
        updateInterest();
    }

    /**
     * Sends {@code bytes} (consumed), or keeps what the kernel does not take for later.
     *
     * @throws IOException the peer can no longer be written to
     */
    void send(ByteBuffer bytes) throws IOException {
        if (outputEnded || finishRequested || !bytes.hasRemaining()) return;
        if (waiting == null && !connecting) channel.write(bytes);
        if (bytes.hasRemaining()) {
            waiting = append(waiting, bytes);
            updateInterest();
        }
    }

    /** Writes waiting bytes after {@link SelectionKey#OP_WRITE}; sends FIN once they are out, if asked. */
    void flush() throws IOException {
        if (outputEnded || connecting) return;
        if (waiting != null) {
            channel.write(waiting);
            if (waiting.hasRemaining()) return;
            waiting = null;
            updateInterest();
        }
        if (finishRequested) endOutput();
    }

    /** FIN after the waiting bytes. */
    void finish() throws IOException {
        if (finishRequested) return;
        finishRequested = true;
        if (waiting == null && !connecting) endOutput();
    }

    /** Resets the connection now; waiting bytes are dropped. */
    void abort() {
        if (closed) return;
        try {
            if (!connecting) channel.setOption(StandardSocketOptions.SO_LINGER, 0);
        } catch (IOException ignored) {
            // already reset by the peer: closing is all that is left
        }
        closeChannel();
    }

    /**
     * Closes the socket after both directions are done; reads what the peer still sent first (see the constant),
     * into {@code sink}, whose content is dropped.
     */
    void close(ByteBuffer sink) {
        if (closed) return;
        try {
            for (int i = 0; i < DRAIN_READS_BEFORE_CLOSE && !connecting; i++) {
                sink.clear();
                if (channel.read(sink) <= 0) break;
            }
        } catch (IOException ignored) {
            // reset meanwhile: nothing to protect any more
        }
        closeChannel();
    }

    /** True while bytes wait for the kernel: the peer is not keeping up. */
    boolean isBusy() {
        return waiting != null;
    }

    /** FIN sent, reset or closed: nothing more will go out. */
    boolean isOutputEnded() {
        return outputEnded;
    }

    private void endOutput() throws IOException {
        outputEnded = true;
        updateInterest();
        channel.shutdownOutput();
    }

    private void closeChannel() {
        closed = true;
        outputEnded = true;
        waiting = null;
        try {
            channel.close(); // also cancels the key
        } catch (IOException ignored) {
            // the descriptor is released either way
        }
    }

    private void updateInterest() {
        if (!key.isValid()) return;
        int ops = connecting ? SelectionKey.OP_CONNECT
                : (wantInput ? SelectionKey.OP_READ : 0) | (waiting != null && !outputEnded ? SelectionKey.OP_WRITE : 0);
        key.interestOps(ops);
    }

    private static ByteBuffer append(ByteBuffer waiting, ByteBuffer more) {
        if (waiting == null) {
            ByteBuffer copy = ByteBuffer.allocate(more.remaining());
            copy.put(more).flip();
            return copy;
        }
        ByteBuffer joined = ByteBuffer.allocate(waiting.remaining() + more.remaining());
        joined.put(waiting).put(more).flip();
        return joined;
    }
}
