// A Java HTTP service for services.py: each request to / computes work(); a shutdown hook
// says it ran. Stopped by a signal (the JVM runs the hooks, then exits 128+signal), or by a
// request to /exit (System.exit(3): hooks run) or /halt (Runtime.halt(4): no hooks).
// usage: java StopService PORT
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;

public class StopService {
    static double work(int n) {
        double s = 0;
        for (int i = 0; i < n; i++)
            s += Math.sqrt(i) * Math.sin(i);
        return s;
    }

    public static void main(String[] args) throws Exception {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("shutdown hook ran")));
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])), 16);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            if (path.equals("/exit"))
                System.exit(3);
            if (path.equals("/halt"))
                Runtime.getRuntime().halt(4);
            byte[] body = Double.toString(work(300000)).getBytes();
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        System.out.println("listening");
    }
}
