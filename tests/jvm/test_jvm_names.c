/* test_jvm_names - the pure parts of preload/jvm.c: Java frame names from JVMTI signatures,
 * and the JAVA_TOOL_OPTIONS value. Exits 0 when every case holds. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "jvm.h"
#include "jvm_options.h"

static void expect_str(const char *what, const char *got, const char *want)
{
    CHECKF(strcmp(got, want) == 0, "%s: got '%s', want '%s'", what, got, want);
}

static void name(const char *csig, const char *m, const char *sig, const char *want)
{
    char buf[256];
    size_t n = jvm_format_method(buf, sizeof buf, csig, m, sig);
    expect_str(sig ? sig : "(null)", buf, want);
    CHECKF(n == strlen(buf), "%s: length %zu != %zu", want, n, strlen(buf));
}

static void options(const char *old, const char *lib, const char *want)
{
    char buf[512];
    bool ok = jvm_tool_options(old, lib, buf, sizeof buf);
    expect_str(old ? old : "(unset)", ok ? buf : "(nothing)", want ? want : "(nothing)");
}

int main(void)
{
    name("Lcom/example/Foo;", "bar", "(I)V", "com.example.Foo.bar(int)");
    name("LFoo;", "run", "()V", "Foo.run()");
    name("Lcom/example/Foo;", "mix", "(BCDFIJSZ)J",
         "com.example.Foo.mix(byte,char,double,float,int,long,short,boolean)");
    name("Ljava/lang/String;", "valueOf", "([C[[Ljava/lang/Object;Ljava/util/List;)Ljava/lang/String;",
         "java.lang.String.valueOf(char[],java.lang.Object[][],java.util.List)");
    name("LMain$Inner;", "<init>", "(LMain;)V", "Main$Inner.<init>(Main)");
    /* A hidden class (a lambda's) loses the address the JVM appends to its name. */
    name("LMain$$Lambda$14.0x0000000800c03000;", "apply", "(Ljava/lang/Object;)Ljava/lang/Object;",
         "Main$$Lambda$14.apply(java.lang.Object)");
    name("Lcom/x/Main$$Lambda$7+0x0000000800c03000;", "run", "()V",
         "com.x.Main$$Lambda$7+0x0000000800c03000.run()");
    name("Lcom/x/Fake.0xZZ;", "run", "()V", "com.x.Fake.0xZZ.run()");
    name("Lcom/x/Odd.0x;", "run", "()V", "com.x.Odd.0x.run()");
    /* Malformed input never produces half a parameter list, never a ';'. */
    name("LFoo;", "bad", "(Ljava/lang/String", "Foo.bad");
    name("LFoo;", "bad", "(Q)V", "Foo.bad");
    name("LFoo;", "nosig", NULL, "Foo.nosig");
    name("Weird;Name", "m", "()V", "Weird:Name.m()"); /* util/frame_name.h */
    name(NULL, "m", "()V", "m()");
    name("LFoo;", "line\nbreak", "()V", "Foo.line?break()");

    /* Truncation: always terminated, never past cap. */
    char small[8];
    size_t n = jvm_format_method(small, sizeof small, "Lcom/example/Foo;", "bar", "(I)V");
    expect_str("cut to 7 bytes", small, "com.exa");
    CHECKF(n == 7, "cut length %zu", n);

    const char *lib = "/usr/lib/libflameprof.so";
    options(NULL, lib, "-XX:+PreserveFramePointer -agentpath:/usr/lib/libflameprof.so");
    options("", lib, "-XX:+PreserveFramePointer -agentpath:/usr/lib/libflameprof.so");
    options("-Xmx1g -Dx=y", lib,
            "-Xmx1g -Dx=y -XX:+PreserveFramePointer -agentpath:/usr/lib/libflameprof.so");
    /* The user's frame-pointer choice wins; the agent is still added. */
    options("-XX:-PreserveFramePointer", lib,
            "-XX:-PreserveFramePointer -agentpath:/usr/lib/libflameprof.so");
    /* Already there (a java child of a java process): nothing to add. */
    options("-XX:+PreserveFramePointer -agentpath:/usr/lib/libflameprof.so", lib, NULL);
    options("-agentpath:/usr/lib/libflameprof.so", lib,
            "-agentpath:/usr/lib/libflameprof.so -XX:+PreserveFramePointer");
    /* White space or a quote in the path: quoted with the other kind of quote. */
    options(NULL, "/opt/my libs/libflameprof.so",
            "-XX:+PreserveFramePointer -agentpath:\"/opt/my libs/libflameprof.so\"");
    options(NULL, "/opt/it's/libflameprof.so",
            "-XX:+PreserveFramePointer -agentpath:\"/opt/it's/libflameprof.so\"");
    options(NULL, "/opt/a \"b\"/libflameprof.so",
            "-XX:+PreserveFramePointer -agentpath:'/opt/a \"b\"/libflameprof.so'");
    options(NULL, "/opt/'a' \"b\"/libflameprof.so", NULL);

    /* Which libraries mean "a JVM is coming", whatever the program is called. */
    static const struct {
        const char *path;
        bool jvm;
    } libs[] = { { "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so", true },
                 { "/opt/app/runtime/lib/libjli.so", true },
                 { "libjvm.so", true },
                 { "libjvm.so.1", false },
                 { "/usr/lib/libjvmti_helper.so", false },
                 { "/usr/lib/x86_64-linux-gnu/libc.so.6", false },
                 { "", false },
                 { NULL, false } };
    for (size_t i = 0; i < sizeof libs / sizeof *libs; i++)
        CHECKF(jvm_is_jvm_library(libs[i].path) == libs[i].jvm, "jvm_is_jvm_library(%s) != %d",
               libs[i].path ? libs[i].path : "NULL", libs[i].jvm);

    char tiny[16];
    CHECKF(!jvm_tool_options(NULL, lib, tiny, sizeof tiny), "a too small buffer is refused");
    return check_status("test_jvm_names");
}
