// ChurnQQ0000: the template of JvmChurn's generations. JvmChurn defines copies of this class
// with every "QQ0000" in its bytes replaced by "QQ" and a four-digit generation number, so
// generation 7 is class ChurnQQ0007 with methods applyAsInt and spinQQ0007. Nothing else
// loads this class under its own name.
public class ChurnQQ0000 implements java.util.function.IntUnaryOperator {
    @Override
    public int applyAsInt(int n) {
        int acc = 0;
        for (int i = 0; i < n; i++)
            acc += spinQQ0000(acc + i);
        return acc;
    }

    static int spinQQ0000(int x) {
        for (int i = 0; i < 200; i++)
            x = x * 1103515245 + 12345 + (x >>> 11);
        return x;
    }
}
