package io.actortls.cli;

/** The node or the cluster refused, or could not be reached: the CLI prints the message and exits 1. */
final class CliFailure extends RuntimeException {
    CliFailure(String message) {
        super(message);
    }
}
