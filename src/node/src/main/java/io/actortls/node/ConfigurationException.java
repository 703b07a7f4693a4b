package io.actortls.node;

/** Invalid configuration: the node exits with code 2 and prints this message, which names the key. */
public final class ConfigurationException extends RuntimeException {
    public ConfigurationException(String key, String problem) {
        super(key + ": " + problem);
    }

    public ConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
