package io.actortls.routing;

/** How a connection's use of a server ended, as far as the server's health is concerned. */
public enum LeaseOutcome {
    /** The connection ended, whoever closed it. */
    ENDED,
    /** The server refused or did not answer the connect, or reset the connection: a passive health failure. */
    SERVER_FAILED
}
