// JvmEmbed: the Java half of jvm_embed.c (a C program that creates the VM itself).
// burn(millis) spends that much CPU in a loop that calls mix(), a small method the JIT
// inlines into the loop once it compiles burn: its samples must carry JvmEmbed.mix(int)
// as an inlined frame under the compiled JvmEmbed.burn(long).
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

public class JvmEmbed {
    static int mix(int x) {
        x ^= x << 13;
        x ^= x >>> 17;
        return x ^ (x << 5);
    }

    // millis of this thread's CPU time (the machine may be busy: not wall time).
    public static long burn(long millis) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long end = mx.getCurrentThreadCpuTime() + millis * 1_000_000L;
        long acc = 0;
        int x = 1;
        while (mx.getCurrentThreadCpuTime() < end) {
            for (int i = 0; i < 10_000; i++) {
                x = mix(x + i);
                acc += x;
            }
        }
        return acc;
    }
}
