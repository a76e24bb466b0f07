/* report_stream.h - the exit report's lines reach the terminal even where the program
 * closed stderr before the end.
 *
 * Programs that check their output at exit (coreutils' close_stdout: sort, md5sum; xz)
 * fclose stderr in an atexit handler, which runs before our destructor: the summary line
 * and every note after it were lost without a word. Where stderr was a terminal at start,
 * the end of the process reopens that terminal (/dev/tty) as stderr for our lines. Never a
 * descriptor kept open from the start: a daemon that closes stderr must not keep its
 * caller's pipe open through us; and never when stderr went to a file or a pipe (the
 * terminal is not where the user asked the lines to go). A process without a controlling
 * terminal (a daemon after setsid) cannot open /dev/tty: nothing changes there.
 *
 * Not async-signal-safe: report_stream_note_start from the library's constructor,
 * report_stream_restore from the final exit report only (the process is ending). */
#ifndef FLAMEPROF_REPORT_STREAM_H
#define FLAMEPROF_REPORT_STREAM_H

/* Remembers whether descriptor 2 is a terminal now (one ioctl). */
void report_stream_note_start(void);

/* If descriptor 2 is closed and was a terminal at start: the terminal as descriptor 2 and
 * as glibc's stderr stream (unbuffered). Otherwise nothing. */
void report_stream_restore(void);

#endif
