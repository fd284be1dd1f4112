// Tiny C helpers for the dq executable and shell: standard streams and SIGINT.
// Swift 6 rejects the C globals stdin/stdout/stderr, so they are touched only here.
#ifndef DQ_CSUPPORT_H
#define DQ_CSUPPORT_H
#include <stddef.h>
#include <stdio.h>

/// Writes bytes to standard output (buffered); returns 0, or the errno value of the first
/// failed write (every later call returns it too, without writing).
int dq_write_stdout(const char *bytes, size_t count);
/// Writes bytes to standard error (unbuffered), after flushing standard output.
void dq_write_stderr(const char *bytes, size_t count);
/// Flushes standard output; returns 0 or the errno value of the first failure.
int dq_flush_stdout(void);

/// Writes all bytes to `f`, going on after a write interrupted by a signal; 0 or an errno value.
int dq_write_all(FILE *f, const char *bytes, size_t count);
/// Flushes `f`, going on after an interrupted write; 0 or an errno value.
int dq_flush(FILE *f);

/// Reads one line from standard input into a malloc'd buffer (caller frees); NULL at end of input.
/// `*length` receives the byte count, newline included when present.
char *dq_read_stdin_line(size_t *length);

/// Reads all of a file ("-" for standard input) into a malloc'd buffer; NULL on error, with the
/// errno value in `*error` (read at once, so nothing can overwrite it).
char *dq_read_file(const char *path, size_t *length, int *error);

/// The width in columns of the terminal `fd` is, or 0 when it is not a terminal.
int dq_terminal_width(int fd);

/// Installs a SIGINT handler (without SA_RESTART) that only sets a flag.
void dq_install_sigint_handler(void);
/// Returns and clears the interrupt flag.
int dq_take_interrupt(void);
/// Returns the interrupt flag without clearing it.
int dq_interrupt_pending(void);

/// Names the temporary file to remove when SIGTERM, SIGHUP (or SIGINT, see below) ends dq;
/// NULL clears it. dq then dies of the signal as it would have.
void dq_set_cleanup_path(const char *path);
/// Installs the handlers that remove that file; SIGINT too when `include_sigint` (scripts: the
/// shell has its own SIGINT handler).
void dq_install_cleanup_handlers(int include_sigint);

#endif
