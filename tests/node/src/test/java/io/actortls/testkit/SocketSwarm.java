package io.actortls.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * Many raw TCP clients of one node, from one source address on 127.0.0.0/8, driven by one thread with a selector:
 * the hostile clients of the exhaustion tests. Each connects, sends {@code greeting} at once (e.g. half a
 * ClientHello, or nothing), then {@code drip} one byte per second per connection (slowloris), and reads whatever
 * the node sends until the node closes. A client the node closes is counted with how long it had been connected;
 * with {@code reconnect} another one takes its place, as a flood would.
 */
public final class SocketSwarm implements AutoCloseable {
    private static final Duration DRIP_INTERVAL = Duration.ofSeconds(1);

    private final InetSocketAddress target;
    private final InetSocketAddress from;
    private final int count;
    private final byte[] greeting;
    private final byte[] drip;
    private final boolean reconnect;
    private final int connectsInFlight;
    private final Selector selector;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;

    private final AtomicInteger started = new AtomicInteger();
    private final AtomicInteger connecting = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong connected = new AtomicLong();
    private final AtomicLong closedByNode = new AtomicLong();
    private final AtomicLong failedConnects = new AtomicLong();
    private final AtomicLong bytesReceived = new AtomicLong();
    /** Milliseconds from connected to closed by the node, one per closed client. */
    private final List<Long> lifetimesMillis = new ArrayList<>();

    /** One client's state, attached to its key. */
    private static final class Client {
        long connectedNanos;
        int dripped;
    }

    private SocketSwarm(Builder b) {
        this.target = new InetSocketAddress("127.0.0.1", b.port);
        this.from = new InetSocketAddress(b.from, 0);
        this.count = b.count;
        this.greeting = b.greeting;
        this.drip = b.drip;
        this.reconnect = b.reconnect;
        this.connectsInFlight = b.connectsInFlight;
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.thread = Thread.ofPlatform().daemon().name("swarm-" + b.from).start(this::run);
    }

    /** {@code count} clients of 127.0.0.1:{@code port}. */
    public static Builder to(int port, int count) {
        return new Builder(port, count);
    }

    public static final class Builder {
        private final int port;
        private final int count;
        private String from = "127.0.0.1";
        private byte[] greeting = new byte[0];
        private byte[] drip = new byte[0];
        private boolean reconnect;
        private int connectsInFlight = 256;

        private Builder(int port, int count) {
            this.port = port;
            this.count = count;
        }

        /** The source address, e.g. 127.0.0.66, so that the node's logs tell these clients from the others. */
        public Builder from(String address) {
            this.from = address;
            return this;
        }

        /** Sent at once by every client when connected. */
        public Builder greeting(byte[] bytes) {
            this.greeting = bytes.clone();
            return this;
        }

        /** Sent one byte per second by every client, after the greeting. */
        public Builder drip(byte[] bytes) {
            this.drip = bytes.clone();
            return this;
        }

        /** A client the node closes is replaced by a new one. */
        public Builder reconnect() {
            this.reconnect = true;
            return this;
        }

        /** Connects started and not finished at most (default 256); the rest start as those finish. */
        public Builder connectsInFlight(int n) {
            this.connectsInFlight = n;
            return this;
        }

        public SocketSwarm start() {
            return new SocketSwarm(this);
        }
    }

    /** Clients connected now. */
    public int open() {
        return open.get();
    }

    /** Connects that completed, over the swarm's life. */
    public long connected() {
        return connected.get();
    }

    /** Clients the node closed (end of stream, reset, or a failed write). */
    public long closedByNode() {
        return closedByNode.get();
    }

    public long failedConnects() {
        return failedConnects.get();
    }

    /** Bytes the node sent to all clients together. */
    public long bytesReceived() {
        return bytesReceived.get();
    }

    /** How long each client the node closed had been connected, in milliseconds. */
    public synchronized List<Long> lifetimesMillis() {
        return List.copyOf(lifetimesMillis);
    }

    /** Waits until {@code n} clients are connected at once. */
    public void awaitOpen(int n, Duration timeout) {
        await(open::get, n, timeout, "clients connected");
    }

    /** Waits until the node has closed {@code n} clients. */
    public void awaitClosedByNode(int n, Duration timeout) {
        await(() -> (int) closedByNode.get(), n, timeout, "clients closed by the node");
    }

    private void await(IntSupplier value, int n, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (value.getAsInt() < n) {
            if (failure != null) throw new AssertionError("the swarm failed", failure);
            if (System.nanoTime() > deadline)
                throw new AssertionError("expected " + n + " " + what + " within " + timeout + "; " + this);
            BackendProcess.sleep(20);
        }
    }

    @Override
    public String toString() {
        return "swarm from " + from.getHostString() + ": open " + open + ", connected " + connected + ", closed by node "
                + closedByNode + ", failed connects " + failedConnects + ", connecting " + connecting;
    }

    /** Closes every client (the node sees each one go) and stops the thread. */
    @Override
    public void close() {
        running = false;
        selector.wakeup();
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        long nextDrip = System.nanoTime() + DRIP_INTERVAL.toNanos();
        ByteBuffer readBuffer = ByteBuffer.allocate(16 * 1024);
        try {
            while (running) {
                startConnects();
                selector.select(100);
                Set<SelectionKey> ready = new HashSet<>(selector.selectedKeys());
                selector.selectedKeys().clear();
                for (SelectionKey key : ready) {
                    if (!key.isValid()) continue;
                    if (key.isConnectable()) finishConnect(key);
                    else if (key.isReadable()) read(key, readBuffer);
                }
                if (drip.length > 0 && System.nanoTime() >= nextDrip) {
                    // Never two bytes in a row after a late tick: one a second at most.
                    nextDrip = System.nanoTime() + DRIP_INTERVAL.toNanos();
                    dripOneByte();
                }
            }
        } catch (Throwable t) {
            failure = t;
        } finally {
            for (SelectionKey key : selector.keys()) closeQuietly(key);
            try {
                selector.close();
            } catch (IOException ignored) {
                // the channels are closed already
            }
        }
    }

    private void startConnects() throws IOException {
        while (connecting.get() < connectsInFlight
                && (reconnect ? open.get() + connecting.get() < count : started.get() < count)) {
            SocketChannel channel = SocketChannel.open();
            channel.configureBlocking(false);
            channel.bind(from);
            started.incrementAndGet();
            connecting.incrementAndGet();
            try {
                if (channel.connect(target)) {
                    SelectionKey key = channel.register(selector, 0, new Client());
                    connecting.decrementAndGet();
                    connectedNow(key);
                } else {
                    channel.register(selector, SelectionKey.OP_CONNECT, new Client());
                }
            } catch (IOException e) {
                connecting.decrementAndGet();
                failedConnects.incrementAndGet();
                channel.close();
            }
        }
    }

    private void finishConnect(SelectionKey key) {
        connecting.decrementAndGet();
        try {
            ((SocketChannel) key.channel()).finishConnect();
        } catch (IOException e) {
            failedConnects.incrementAndGet();
            closeQuietly(key);
            return;
        }
        connectedNow(key);
    }

    private void connectedNow(SelectionKey key) {
        Client client = (Client) key.attachment();
        client.connectedNanos = System.nanoTime();
        connected.incrementAndGet();
        open.incrementAndGet();
        key.interestOps(SelectionKey.OP_READ);
        if (greeting.length > 0) write(key, ByteBuffer.wrap(greeting));
    }

    private void read(SelectionKey key, ByteBuffer buffer) {
        int n;
        try {
            buffer.clear();
            n = ((SocketChannel) key.channel()).read(buffer);
        } catch (IOException reset) {
            n = -1;
        }
        if (n < 0) closedByNode(key);
        else bytesReceived.addAndGet(n);
    }

    private void dripOneByte() {
        for (SelectionKey key : new ArrayList<>(selector.keys())) {
            if (!key.isValid() || (key.interestOps() & SelectionKey.OP_READ) == 0) continue;
            Client client = (Client) key.attachment();
            if (client.dripped < drip.length) write(key, ByteBuffer.wrap(drip, client.dripped++, 1));
        }
    }

    /** Small writes to a connected socket: the kernel takes them whole, or the node has gone. */
    private void write(SelectionKey key, ByteBuffer bytes) {
        try {
            ((SocketChannel) key.channel()).write(bytes);
        } catch (IOException gone) {
            closedByNode(key);
        }
    }

    private void closedByNode(SelectionKey key) {
        if (!key.isValid()) return;
        Client client = (Client) key.attachment();
        synchronized (this) {
            lifetimesMillis.add(Duration.ofNanos(System.nanoTime() - client.connectedNanos).toMillis());
        }
        closedByNode.incrementAndGet();
        open.decrementAndGet();
        closeQuietly(key);
    }

    private static void closeQuietly(SelectionKey key) {
        key.cancel();
        try {
            key.channel().close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
    }
}
