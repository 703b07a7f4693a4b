package io.actortls.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Values the CLI can judge by itself, checked before any call: a bad one is a usage error (exit 2, naming the
 * argument and the problem, with the usage), not a call that a node refuses. The node checks them again (the API
 * has other callers).
 */
final class Arguments {
    private Arguments() {}

    /** A server weight: 1-1000, as in pekko.hocon. */
    static final class Weight implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return between(value, 1, 1000);
        }
    }

    /** A count or a limit: 1 or more. */
    static final class Positive implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return between(value, 1, Integer.MAX_VALUE);
        }
    }

    /** A limit where 0 means none: 0 or more. */
    static final class NotNegative implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return between(value, 0, Integer.MAX_VALUE);
        }
    }

    /** host:port with a TCP port, 1-65535. */
    static final class HostPort implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            int colon = value.lastIndexOf(':');
            if (colon <= 0 || !value.substring(colon + 1).matches("[0-9]{1,5}")
                    || Integer.parseInt(value.substring(colon + 1)) < 1 || Integer.parseInt(value.substring(colon + 1)) > 65535)
                throw new TypeConversionException("must be host:port with a port 1-65535, not " + value);
            return value;
        }
    }

    private static int between(String text, int min, int max) {
        int value;
        try {
            value = Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + text + "' is not a whole number");
        }
        if (value < min || value > max)
            throw new TypeConversionException(max == Integer.MAX_VALUE ? "must be at least " + min + ", not " + value
                    : "must be " + min + "-" + max + ", not " + value);
        return value;
    }
}
