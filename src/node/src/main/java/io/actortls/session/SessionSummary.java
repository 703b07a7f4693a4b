package io.actortls.session;

import io.actortls.node.ClusterMessage;

/**
 * What the management API shows of one cached session: never its DER, master secret or ticket.
 *
 * @param id       session ID, hex
 * @param vhost    the virtual host it resumes under (from its session ID context), null if none matches
 * @param protocol "TLSv1.3" or "TLSv1.2"
 * @param kind     how a client offers it: "tls1.2-session-id" or "tls1.3-stateful-ticket"
 * @param created  ISO-8601 instant the node that made it cached it
 * @param expires  ISO-8601 instant it stops resuming
 * @param origin   the node that made it, host:port
 */
public record SessionSummary(String id, String vhost, String protocol, String kind, String created, String expires,
                             String origin) implements ClusterMessage {}
