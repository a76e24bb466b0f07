// ChurnLoader: one class loader per generation, so that each generation's class can be
// unloaded (and its compiled code freed) once the generation is over.
public class ChurnLoader extends ClassLoader {
    ChurnLoader() {
        super(ChurnLoader.class.getClassLoader());
    }

    Class<?> define(String name, byte[] bytes) {
        return defineClass(name, bytes, 0, bytes.length);
    }
}
