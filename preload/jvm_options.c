/* jvm_options.c - telling a HotSpot JVM, started in this process, to load us as its agent
 * (see jvm_options.h). */
#include "jvm_options.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define FRAME_POINTER_FLAG "-XX:+PreserveFramePointer"
#define AGENT_FLAG "-agentpath:"

bool jvm_tool_options(const char *old, const char *lib, char *dst, size_t cap)
{
    bool fp = !(old && strstr(old, "PreserveFramePointer"));
    bool agent = !(old && strstr(old, lib));
    if (!fp && !agent)
        return false;
    /* The JVM splits the variable at white space and treats ' and " as quotes anywhere in
     * a word, so a path with either needs quoting with the other kind. */
    const char *quote = "";
    if (strpbrk(lib, " \t\n\v\f\r'\"")) {
        if (!strchr(lib, '"'))
            quote = "\"";
        else if (!strchr(lib, '\''))
            quote = "'";
        else
            return false;
    }
    const char *sep = old && *old ? " " : "";
    int n;
    if (agent)
        n = snprintf(dst, cap, "%s%s%s%s" AGENT_FLAG "%s%s%s", old ? old : "", sep,
                     fp ? FRAME_POINTER_FLAG : "", fp ? " " : "", quote, lib, quote);
    else
        n = snprintf(dst, cap, "%s%s" FRAME_POINTER_FLAG, old ? old : "", sep);
    return n > 0 && (size_t)n < cap;
}

/* Does path name a HotSpot VM (libjvm.so) or a JDK launcher's library (libjli.so, which
 * every JDK tool links and which loads libjvm)? Whatever the executable is called: java,
 * javac, jshell, jar, jlink, a jpackage'd application, or a program of its own. */
bool jvm_is_jvm_library(const char *path)
{
    if (!path)
        return false;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strcmp(base, "libjvm.so") == 0 || strcmp(base, "libjli.so") == 0;
}

static void *dlsym_unavailable(void *handle, const char *name)
{
    (void)handle, (void)name;
    return NULL;
}

/* glibc's dlsym, found with dlvsym: a dlsym of ours would come back to the stub. */
static jvm_dlsym_fn real_dlsym(void)
{
    static _Atomic(jvm_dlsym_fn) real;
    jvm_dlsym_fn f = atomic_load_explicit(&real, memory_order_acquire);
    if (!f) {
        f = (jvm_dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
        if (!f)
            f = (jvm_dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
        if (!f)
            return dlsym_unavailable;
        atomic_store_explicit(&real, f, memory_order_release);
    }
    return f;
}

#ifdef FLAMEPROF_HAVE_JVMTI

#include <jni.h>

/* What the constructor decided; read-only afterwards. */
static struct {
    bool armed;      /* FLAMEPROF_JAVA on and our own path known */
    char lib[PATH_MAX];
    char agent[PATH_MAX + sizeof AGENT_FLAG]; /* "-agentpath:<lib>" for the init args */
    bool set;        /* JAVA_TOOL_OPTIONS changed (a program linking libjvm) */
    char *user;      /* the user's JAVA_TOOL_OPTIONS (NULL: unset), restored at Agent_OnLoad */
    bool had_user;
} g_opt;

typedef jint(JNICALL *create_vm_fn)(JavaVM **, void **, void *);
static _Atomic(create_vm_fn) g_real_create; /* the JVM's JNI_CreateJavaVM */

/* FLAMEPROF_JAVA: on unless a false value; a bad value is reported and means on. */
static bool java_enabled(void)
{
    const char *v = getenv("FLAMEPROF_JAVA");
    bool on;
    char why[96];
    if (!v)
        return true;
    if (config_parse_bool(v, &on, why, sizeof why))
        return on || !*v; /* set but empty: the default */
    char shown[64];
    size_t i = 0;
    for (; v[i] && i < sizeof shown - 4; i++)
        shown[i] = (unsigned char)v[i] < 0x20 ? '?' : v[i];
    snprintf(shown + i, sizeof shown - i, "%s", v[i] ? "..." : "");
    fprintf(stderr, "flameprof: FLAMEPROF_JAVA='%s' %s; using 1 (Java methods named)\n", shown,
            why);
    return true;
}

static int find_libjvm(struct dl_phdr_info *info, size_t size, void *found)
{
    (void)size;
    const char *base = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
    if (base && strcmp(base + 1, "libjvm.so") == 0)
        *(bool *)found = true;
    return *(bool *)found;
}

/* A program linked against libjvm calls JNI_CreateJavaVM without dlsym: the variable. */
static void inject_env(void)
{
    const char *old = getenv("JAVA_TOOL_OPTIONS");
    size_t cap = (old ? strlen(old) : 0) + strlen(g_opt.lib) + sizeof FRAME_POINTER_FLAG +
                 sizeof AGENT_FLAG + 8;
    char *v = malloc(cap);
    if (!v)
        return;
    if (jvm_tool_options(old, g_opt.lib, v, cap)) {
        g_opt.set = true;
        g_opt.had_user = old != NULL;
        g_opt.user = old ? strdup(old) : NULL;
        setenv("JAVA_TOOL_OPTIONS", v, 1);
    } else if (!(old && strstr(old, g_opt.lib))) {
        fprintf(stderr, "flameprof: libflameprof.so's path has both kinds of quote; Java "
                        "methods will not be named\n");
    }
    free(v);
}

void jvm_options_setup(void)
{
    if (!java_enabled())
        return;
    Dl_info info;
    /* The agent must be this very file: the loader then hands the JVM the copy that is
     * already mapped. dli_fname is LD_PRELOAD's spelling, possibly relative to a working
     * directory the JVM may not keep: make it absolute now. */
    if (!dladdr((void *)jvm_options_setup, &info) || !info.dli_fname ||
        !realpath(info.dli_fname, g_opt.lib)) {
        fprintf(stderr, "flameprof: cannot find libflameprof.so's own path; Java methods "
                        "will not be named\n");
        return;
    }
    snprintf(g_opt.agent, sizeof g_opt.agent, AGENT_FLAG "%s", g_opt.lib);
    g_opt.armed = true;
    bool linked = false;
    dl_iterate_phdr(find_libjvm, &linked);
    if (linked)
        inject_env();
}

void jvm_options_restore_env(void)
{
    if (!g_opt.set)
        return;
    if (g_opt.had_user && g_opt.user)
        setenv("JAVA_TOOL_OPTIONS", g_opt.user, 1);
    else if (!g_opt.had_user)
        unsetenv("JAVA_TOOL_OPTIONS");
}

/* Does any option the JVM will read (its init args, then the variables it reads itself)
 * mention s? The user's choice stands. */
static bool mentioned(const JavaVMInitArgs *in, const char *s)
{
    for (jint i = 0; i < in->nOptions; i++)
        if (in->options[i].optionString && strstr(in->options[i].optionString, s))
            return true;
    const char *vars[] = { "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS" };
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && strstr(v, s))
            return true;
    }
    return false;
}

/* Our JNI_CreateJavaVM: the program's init args with ours in front. The copy is never
 * freed: the JVM may keep pointers into it, and there is one JVM a process. */
static jint JNICALL create_vm(JavaVM **vm, void **env, void *args)
{
    create_vm_fn real = atomic_load(&g_real_create);
    JavaVMInitArgs *in = args;
    if (!in || in->version < JNI_VERSION_1_2 || in->nOptions < 0 || in->nOptions > 1 << 20)
        return real(vm, env, args);
    JavaVMOption ours[2];
    int n = 0;
    if (!mentioned(in, "PreserveFramePointer"))
        ours[n++] = (JavaVMOption){ .optionString = FRAME_POINTER_FLAG };
    if (!mentioned(in, g_opt.lib))
        ours[n++] = (JavaVMOption){ .optionString = g_opt.agent };
    JavaVMOption *all = n ? calloc((size_t)in->nOptions + (size_t)n, sizeof *all) : NULL;
    if (!all)
        return real(vm, env, args);
    memcpy(all, ours, (size_t)n * sizeof *all);
    if (in->nOptions)
        memcpy(all + n, in->options, (size_t)in->nOptions * sizeof *all);
    JavaVMInitArgs with = *in;
    with.options = all;
    with.nOptions = in->nOptions + n;
    return real(vm, env, &with);
}

/* Jumped to in place of dlsym(handle, "JNI_CreateJavaVM"): the JVM's, kept, and ours
 * returned. The handle names the JVM library, so calling dlsym from here finds the same. */
static void *lookup_create_vm(void *handle, const char *name)
{
    create_vm_fn real = (create_vm_fn)real_dlsym()(handle, name);
    if (!real)
        return NULL;
    create_vm_fn seen = NULL;
    if (!atomic_compare_exchange_strong(&g_real_create, &seen, real) && seen != real)
        return (void *)real; /* a second, different JVM library: left alone */
    return (void *)create_vm;
}

jvm_dlsym_fn jvm_options_dlsym(void *handle, const char *name)
{
    /* RTLD_NEXT and RTLD_DEFAULT are resolved from the caller: left to glibc. */
    if (g_opt.armed && name && handle != RTLD_NEXT && handle != RTLD_DEFAULT &&
        name[0] == 'J' && strcmp(name, "JNI_CreateJavaVM") == 0)
        return lookup_create_vm;
    return real_dlsym();
}

#else /* no JDK headers at build time: no agent, nothing to tell a JVM */

void jvm_options_setup(void)
{
}

void jvm_options_restore_env(void)
{
}

jvm_dlsym_fn jvm_options_dlsym(void *handle, const char *name)
{
    (void)handle, (void)name;
    return real_dlsym();
}

#endif
