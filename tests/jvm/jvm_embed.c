/* jvm_embed - a program that embeds a JVM the way JNI embedders do: it dlopens libjvm.so
 * (no JDK launcher, no libjli), creates the VM with JNI_CreateJavaVM and calls a static
 * Java method that burns CPU.
 *
 * usage: jvm_embed LIBJVM CLASSPATH CLASS MILLIS
 * Calls CLASS.burn(long millis) (a static method returning long) and prints its result.
 * Exit status 0, or 2 when something JNI refused (with one line saying what). */
#include <dlfcn.h>
#include <jni.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef jint (*create_vm_fn)(JavaVM **, void **, void *);

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s LIBJVM CLASSPATH CLASS MILLIS\n", argv[0]);
        return 2;
    }
    void *jvm = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!jvm) {
        fprintf(stderr, "jvm_embed: dlopen: %s\n", dlerror());
        return 2;
    }
    create_vm_fn create = (create_vm_fn)dlsym(jvm, "JNI_CreateJavaVM");
    if (!create) {
        fprintf(stderr, "jvm_embed: no JNI_CreateJavaVM in %s\n", argv[1]);
        return 2;
    }
    size_t cap = strlen(argv[2]) + 32;
    char *cp = malloc(cap);
    if (!cp)
        return 2;
    snprintf(cp, cap, "-Djava.class.path=%s", argv[2]);
    JavaVMOption opts[] = { { cp, NULL } };
    JavaVMInitArgs args = { JNI_VERSION_1_8, 1, opts, JNI_FALSE };
    JavaVM *vm;
    JNIEnv *env;
    if (create(&vm, (void **)&env, &args) != JNI_OK) {
        fprintf(stderr, "jvm_embed: JNI_CreateJavaVM failed\n");
        return 2;
    }
    int status = 0;
    jclass c = (*env)->FindClass(env, argv[3]);
    jmethodID m = c ? (*env)->GetStaticMethodID(env, c, "burn", "(J)J") : NULL;
    if (!m) {
        (*env)->ExceptionDescribe(env);
        fprintf(stderr, "jvm_embed: no static long %s.burn(long)\n", argv[3]);
        status = 2;
    } else {
        jlong r = (*env)->CallStaticLongMethod(env, c, m, (jlong)atol(argv[4]));
        if ((*env)->ExceptionCheck(env)) {
            (*env)->ExceptionDescribe(env);
            status = 2;
        } else {
            printf("%lld\n", (long long)r);
        }
    }
    (*vm)->DestroyJavaVM(vm);
    free(cp);
    return status;
}
