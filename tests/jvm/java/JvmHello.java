// JvmHello: a short run for the environment tests. Prints the system property
// flameprof.test (to show that the user's JAVA_TOOL_OPTIONS survive), the variable as the
// program sees it (the user's own value: never ours), the VM's PreserveFramePointer and any
// -agentpath: argument it was started with, then spends about 300 ms of CPU in
// JvmHello.spin, long enough to be compiled and sampled.
import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

public class JvmHello {
    static volatile long sink;

    static long spin(long x) {
        for (int i = 0; i < 100000; i++)
            x = x * 2862933555777941757L + 3037000493L;
        return x;
    }

    public static void main(String[] args) {
        System.out.println("flameprof.test=" + System.getProperty("flameprof.test"));
        // What the programs it starts would inherit: the user's value, never ours.
        System.out.println("env=" + System.getenv("JAVA_TOOL_OPTIONS"));
        HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        System.out.println("fp=" + hs.getVMOption("PreserveFramePointer").getValue());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments())
            if (a.startsWith("-agentpath:"))
                System.out.println("agent=" + a);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long start = mx.getCurrentThreadCpuTime(), x = 1;
        while (mx.getCurrentThreadCpuTime() - start < 300_000_000L)
            x = spin(x);
        sink = x;
    }
}
