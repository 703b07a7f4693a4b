package io.actortls.demo;

import com.sun.net.httpserver.HttpServer;
import io.actortls.node.Main;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/** The demo's plaintext HTTP backend: {@code GET /} answers 200 with a body naming this backend. */
public final class DemoBackend {
    private DemoBackend() {}

    public static int run(String[] args) {
        int port = -1;
        String name = "demo-backend";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = i + 1 < args.length ? parsePort(args[++i]) : -1;
                case "--name" -> name = i + 1 < args.length ? args[++i] : name;
                default -> Main.usage("unknown argument for demo-backend: " + args[i]);
            }
        }
        if (port < 1) return Main.usage("demo-backend needs --port N (1-65535)");
        try {
            serve(port, name);
            new CountDownLatch(1).await(); // until the process is stopped
            return 0;
        } catch (IOException e) {
            System.err.println("actortls demo-backend: cannot listen on 127.0.0.1:" + port + ": " + e.getMessage());
            return Main.EXIT_USAGE;
        } catch (InterruptedException e) {
            return 0;
        }
    }

    /** Starts the backend in this JVM and returns the running server. */
    public static HttpServer serve(int port, String name) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 1024);
        byte[] body = ("Hello from " + name + "\n").getBytes(StandardCharsets.UTF_8);
        server.createContext("/", exchange -> {
            try (exchange; OutputStream out = exchange.getResponseBody()) {
                exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
                exchange.getResponseHeaders().set("X-Backend", name);
                exchange.sendResponseHeaders(200, body.length);
                out.write(body);
            }
        });
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        System.out.println("demo backend " + name + " listening on 127.0.0.1:" + port);
        return server;
    }

    private static int parsePort(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
