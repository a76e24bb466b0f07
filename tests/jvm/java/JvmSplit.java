// JvmSplit: a known split of CPU time between three named Java methods, on several threads.
//
// usage: java JvmSplit TRUTH.json [THREADS] [CPU_MS_PER_THREAD]
//
// Each worker thread calls alpha, beta and gamma (weights 5:3:2) until it has used its CPU
// budget, and measures the CPU time of every call with ThreadMXBean.getCurrentThreadCpuTime
// (the thread's CPU clock, the same clock the profiler samples). The truth file holds the
// measured CPU per method, summed over the threads. The methods must not be inlined into
// their caller for their own frames to exist: the test runs with
// -XX:CompileCommand=dontinline,JvmSplit::*.
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.concurrent.ThreadLocalRandom;

public class JvmSplit {
    static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
    static final String[] NAMES = { "alpha", "beta", "gamma" };
    static final double[] WEIGHTS = { 5, 3, 2 };
    // Iterations per call: random, about 5 to 20 ms, longer than the kernel's tick (4 ms),
    // at which CPU timers fire. With calls of 0.2 to 3 ms alternating between methods, the
    // shares came out up to 8 points off the thread CPU clock with three threads on a loaded
    // 2-CPU machine, in a C version of this program as well (a property of tick-driven CPU
    // timers, not of naming); with calls longer than a tick they are within a point. Random,
    // so that the order of calls cannot fall into step with the tick; long enough that the
    // two clock reads around a call (a few us) are noise.
    static final int CHUNK_MIN = 4_000_000, CHUNK_MAX = 12_000_000;

    static volatile long sink;

    // Three different loops, so that no two compile to the same code.
    static long alpha(long x, int n) {
        for (int i = 0; i < n; i++)
            x = x * 6364136223846793005L + 1442695040888963407L + (x >>> 29);
        return x;
    }

    static long beta(long x, int n) {
        for (int i = 0; i < n; i++) {
            x ^= (x << 13) + i;
            x ^= x >>> 7;
            x ^= x << 17;
        }
        return x;
    }

    static long gamma(long x, int n) {
        double d = x;
        for (int i = 0; i < n; i++)
            d = d * 1.0000001 + Math.sqrt(i + 1.0);
        return x + (long) d;
    }

    // Runs on each worker thread: the method furthest behind its weight goes next.
    static long[] worker(long budgetNs) {
        long[] cpu = new long[6]; // CPU ns per method, then calls per method
        long x = Thread.currentThread().getId();
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        long start = MX.getCurrentThreadCpuTime();
        while (MX.getCurrentThreadCpuTime() - start < budgetNs) {
            int k = 0;
            for (int j = 1; j < 3; j++)
                if (cpu[j] / WEIGHTS[j] < cpu[k] / WEIGHTS[k])
                    k = j;
            int n = rnd.nextInt(CHUNK_MIN, CHUNK_MAX);
            long t0 = MX.getCurrentThreadCpuTime();
            if (k == 0)
                x = alpha(x, n);
            else if (k == 1)
                x = beta(x, n);
            else
                x = gamma(x, n);
            cpu[k] += MX.getCurrentThreadCpuTime() - t0;
            cpu[3 + k]++;
        }
        sink += x;
        return cpu;
    }

    public static void main(String[] args) throws Exception {
        String truth = args[0];
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        long budgetNs = (args.length > 2 ? Long.parseLong(args[2]) : 1500) * 1_000_000L;
        long[][] cpu = new long[threads][];
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            final int id = t;
            ts[t] = new Thread(() -> cpu[id] = worker(budgetNs), "split-" + t);
            ts[t].start();
        }
        for (Thread t : ts)
            t.join();
        StringBuilder sb = new StringBuilder("{\"threads\": " + threads + ", \"cpu_ns\": {");
        for (int k = 0; k < 3; k++) {
            long sum = 0;
            for (long[] c : cpu)
                sum += c[k];
            sb.append(k > 0 ? ", " : "").append('"').append(NAMES[k]).append("\": ").append(sum);
        }
        sb.append("}, \"calls\": {");
        for (int k = 0; k < 3; k++) {
            long sum = 0;
            for (long[] c : cpu)
                sum += c[3 + k];
            sb.append(k > 0 ? ", " : "").append('"').append(NAMES[k]).append("\": ").append(sum);
        }
        sb.append("}, \"end_ms\": ").append(System.currentTimeMillis()).append("}\n");
        Files.write(Paths.get(truth), sb.toString().getBytes(StandardCharsets.UTF_8));
    }
}
