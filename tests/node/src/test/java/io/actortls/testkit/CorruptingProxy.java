package io.actortls.testkit;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay on 127.0.0.1 between a TLS 1.2 client and a node that passes the handshake through untouched and then
 * flips one bit in the first application-data record (content type 23) the client sends: the node sees a record
 * that fails authentication (bad_record_mac) on a connection whose handshake has completed. Everything the node
 * sends goes back unchanged. (TLS 1.3 encrypts the client's Finished as type 23 too, so this is for TLS 1.2.)
 */
public final class CorruptingProxy implements AutoCloseable {
    private static final int APPLICATION_DATA = 23;

    private final ServerSocket server;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger corrupted = new AtomicInteger();

    private CorruptingProxy(ServerSocket server, int targetPort) {
        this.server = server;
        this.targetPort = targetPort;
        Thread.ofPlatform().daemon().name("corrupting-proxy-accept").start(this::acceptLoop);
    }

    /** Relays each connection accepted on {@link #port()} to 127.0.0.1:{@code targetPort}. */
    public static CorruptingProxy start(int targetPort) {
        try {
            return new CorruptingProxy(new ServerSocket(0, 8, InetAddress.getLoopbackAddress()), targetPort);
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen for the corrupting proxy", e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    /** How many client records were corrupted so far (one per connection at most). */
    public int corruptedRecords() {
        return corrupted.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket node = new Socket();
                sockets.add(client);
                sockets.add(node);
                node.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5000);
                Thread.ofPlatform().daemon().name("corrupting-proxy-up").start(() -> clientToNode(client, node));
                Thread.ofPlatform().daemon().name("corrupting-proxy-down").start(() -> copy(node, client));
            } catch (IOException e) {
                if (server.isClosed()) return;
            }
        }
    }

    /** Record by record: 5-byte header (type, version, length), then the body. */
    private void clientToNode(Socket client, Socket node) {
        boolean done = false;
        try {
            DataInputStream in = new DataInputStream(client.getInputStream());
            OutputStream out = node.getOutputStream();
            byte[] header = new byte[5];
            while (true) {
                try {
                    in.readFully(header);
                } catch (EOFException end) {
                    break;
                }
                int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
                byte[] body = new byte[length];
                in.readFully(body);
                if (!done && header[0] == APPLICATION_DATA && length > 0) {
                    body[length - 1] ^= 0x01; // inside the AEAD tag: the record no longer authenticates
                    done = true;
                    corrupted.incrementAndGet();
                }
                out.write(header);
                out.write(body);
                out.flush();
            }
            node.shutdownOutput();
        } catch (IOException gone) {
            closeQuietly(client, node); // a reset on one side: reset the other, so neither waits forever
        }
    }

    private static void copy(Socket from, Socket to) {
        try {
            from.getInputStream().transferTo(to.getOutputStream());
            to.shutdownOutput();
        } catch (IOException gone) {
            closeQuietly(from, to);
        }
    }

    private static void closeQuietly(Socket... sockets) {
        for (Socket socket : sockets) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        closeQuietly(sockets.toArray(Socket[]::new));
    }
}
