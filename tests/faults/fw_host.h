/* fw_host.h - what fw_host's files share: its helpers (fw_host.c) and the stack modes
 * (fw_host_stacks.c), each described in fw_host.c's usage. */
#ifndef FLAMEPROF_FW_HOST_H
#define FLAMEPROF_FW_HOST_H

#include <pthread.h>

/* perror(what), then exit 2. */
void die(const char *what);
/* pthread_create, or exit 2. */
void start_thread(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
/* A plain handler for sig, with flags and an empty mask; dies on failure. */
void install_handler(int sig, void (*fn)(int), int flags);

int do_deep(long n);
int do_smallstack(void);
int do_altstack(void);
int do_altstack_overflow(long n);
int do_altstack_small(void);

#endif
