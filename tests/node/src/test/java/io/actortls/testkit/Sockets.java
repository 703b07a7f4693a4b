package io.actortls.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;

/** Raw TCP sockets a test holds to a node. */
public final class Sockets {
    private Sockets() {}

    /**
     * Reads until the node closes the connection (end of stream or reset) and returns what it sent first.
     *
     * @throws AssertionError if the connection is still open after {@code bound}
     */
    public static byte[] readUntilClosed(Socket socket, Duration bound) throws IOException {
        socket.setSoTimeout((int) bound.toMillis());
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[4096];
        try {
            for (int n; (n = in.read(buffer)) != -1; ) received.write(buffer, 0, n);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the node did not close the connection within " + bound);
        } catch (SocketException reset) {
            // a reset is a close too
        }
        return received.toByteArray();
    }
}
