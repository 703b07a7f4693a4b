package io.actortls.proxy;

/** The message an actor sends to a back-pressured stream sink to ask for the next element. */
enum StreamAck { INSTANCE }
