package io.actortls.proxy;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.util.ByteString;

/**
 * The sending half of one socket as its connection actor sees it: at most one write in flight (the stream
 * acknowledges each), bytes queued behind it, then FIN once everything queued is out, or an abort that drops
 * the socket at once. {@link #isBusy()} is the back-pressure signal: while it is true, the actor does not
 * read from the other socket. Plain state owned by one actor; never shared.
 */
final class Outlet {
    private ActorRef<Outbound> stream;
    private UniqueKillSwitch killSwitch;
    private ByteString queued = ByteString.emptyByteString();
    private boolean writeInFlight;
    private boolean finishRequested;
    private boolean ended;

    /** Attaches the materialized stream; bytes offered before are queued until then. */
    void attach(ActorRef<Outbound> stream, UniqueKillSwitch killSwitch) {
        this.stream = stream;
        this.killSwitch = killSwitch;
        flush();
    }

    void offer(ByteString bytes) {
        if (ended || finishRequested || bytes.isEmpty()) return;
        queued = queued.concat(bytes);
        flush();
    }

    /** The stream accepted the previous write. */
    void acknowledged() {
        writeInFlight = false;
        flush();
    }

    /** Sends FIN once the queue is empty. */
    void finish() {
        finishRequested = true;
        flush();
    }

    /** Drops the socket at once, queued bytes included. */
    void abort() {
        if (killSwitch != null && !ended) killSwitch.abort(new ConnectionAborted());
        ended = true;
        queued = ByteString.emptyByteString();
    }

    /**
     * The socket's writing half is gone (FIN sent, reset, or aborted): nothing queued can go out any more.
     *
     * @return true if it went without {@link #finish} or {@link #abort}: the peer can no longer be written to
     */
    boolean streamEnded() {
        boolean unexpected = !ended;
        ended = true;
        writeInFlight = false;
        queued = ByteString.emptyByteString();
        return unexpected;
    }

    /** True while bytes are queued or unacknowledged: the peer is not keeping up. */
    boolean isBusy() {
        return writeInFlight || !queued.isEmpty();
    }

    /** FIN sent, or aborted: nothing more will go out. */
    boolean isEnded() {
        return ended;
    }

    boolean isAttached() {
        return stream != null;
    }

    private void flush() {
        if (stream == null || ended || writeInFlight) return;
        if (!queued.isEmpty()) {
            stream.tell(new Outbound.Data(queued));
            queued = ByteString.emptyByteString();
            writeInFlight = true;
        } else if (finishRequested) {
            ended = true;
            stream.tell(new Outbound.Finish());
        }
    }

    static final class ConnectionAborted extends RuntimeException {
        ConnectionAborted() {
            super("connection aborted by ActorTls", null, false, false);
        }
    }
}
