/* test_threads.c - thread names: the kernel's comm, and a runtime's name outranking it
 * (threads_set_runtime: a Python thread's threading name) through later comm reads. */
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "check.h"
#include "threads.h"

int main(void)
{
    uint32_t tid = (uint32_t)gettid();
    CHECK(prctl(PR_SET_NAME, "fp-comm-name") == 0);
    threads_seen(tid);
    CHECK_STR(threads_name(tid), "fp-comm-name");

    threads_set_runtime(tid, "rx;worker\n1"); /* the folded format's rules still hold */
    CHECK_STR(threads_name(tid), "rx:worker?1");
    threads_seen(tid);
    threads_refresh(); /* comm is not read again for a runtime-named thread */
    CHECK_STR(threads_name(tid), "rx:worker?1");

    threads_set_runtime(tid, "renamed"); /* the runtime's renames are taken */
    CHECK_STR(threads_name(tid), "renamed");

    threads_free(); /* as threads_reset in a fork child (which abandons the table: a leak
                     * here), the names are forgotten: comm again */
    threads_seen(tid);
    CHECK_STR(threads_name(tid), "fp-comm-name");
    threads_free();
    return check_status("test_threads");
}
