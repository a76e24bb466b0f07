// JvmChurn: compiled code that dies and whose memory is reused by other code.
//
// usage: java JvmChurn TRUTH.json [GENERATIONS] [CPU_MS_PER_GENERATION]
//
// Generation g defines class ChurnQQ<g> (ChurnQQ0000's bytes, renamed) in a class loader of
// its own, runs it until it has used its CPU slice (measured with the thread's CPU clock),
// then drops it; a full GC every few generations unloads the classes and frees their
// compiled code, whose memory the next generations' code reuses. The truth file holds the
// CPU time of every generation. Named frames ChurnQQ<g>.* can only be right if the code at
// an address is named by what lived there when the sample was taken.
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.function.IntUnaryOperator;

public class JvmChurn {
    static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
    static volatile int sink;

    static byte[] rename(byte[] template, int gen) {
        byte[] from = "QQ0000".getBytes(StandardCharsets.US_ASCII);
        byte[] to = String.format("QQ%04d", gen).getBytes(StandardCharsets.US_ASCII);
        byte[] b = template.clone();
        for (int i = 0; i + from.length <= b.length; i++) {
            int j = 0;
            while (j < from.length && b[i + j] == from[j])
                j++;
            if (j == from.length)
                System.arraycopy(to, 0, b, i, to.length);
        }
        return b;
    }

    // One generation: returns the CPU time it used.
    static long runGeneration(byte[] template, int gen, long sliceNs) throws Exception {
        long t0 = MX.getCurrentThreadCpuTime();
        ChurnLoader loader = new ChurnLoader();
        Class<?> c = loader.define(String.format("ChurnQQ%04d", gen), rename(template, gen));
        IntUnaryOperator op = (IntUnaryOperator) c.getDeclaredConstructor().newInstance();
        int acc = 0;
        while (MX.getCurrentThreadCpuTime() - t0 < sliceNs)
            acc += op.applyAsInt(2000);
        sink += acc;
        return MX.getCurrentThreadCpuTime() - t0;
    }

    public static void main(String[] args) throws Exception {
        String truth = args[0];
        int gens = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        long sliceNs = (args.length > 2 ? Long.parseLong(args[2]) : 40) * 1_000_000L;
        byte[] template;
        try (InputStream in = JvmChurn.class.getResourceAsStream("/ChurnQQ0000.class")) {
            template = in.readAllBytes();
        }
        long[] cpu = new long[gens];
        for (int g = 0; g < gens; g++) {
            cpu[g] = runGeneration(template, g, sliceNs);
            if (g % 4 == 3)
                System.gc(); // unload the last generations' classes and their code
        }
        StringBuilder sb = new StringBuilder("{\"generations\": " + gens + ", \"cpu_ns\": [");
        for (int g = 0; g < gens; g++)
            sb.append(g > 0 ? ", " : "").append(cpu[g]);
        sb.append("], \"end_ms\": ").append(System.currentTimeMillis()).append("}\n");
        Files.write(Paths.get(truth), sb.toString().getBytes(StandardCharsets.UTF_8));
    }
}
