// Standard streams and the SIGINT flag for the dq executable and shell.
#include "csupport.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

static volatile sig_atomic_t interrupt_flag = 0;
/// The first error writing standard output (an errno value), kept so it is reported once.
static int stdout_error = 0;

int dq_write_all(FILE *f, const char *bytes, size_t count) {
  while (count > 0) {
    errno = 0;
    size_t n = fwrite(bytes, 1, count, f);
    bytes += n;
    count -= n;
    if (n == 0 || ferror(f)) {
      // Ctrl-C interrupts a write to a slow terminal (the handler has no SA_RESTART): go on.
      if (errno == EINTR) {
        clearerr(f);
        continue;
      }
      return errno ? errno : EIO;
    }
  }
  return 0;
}

int dq_flush(FILE *f) {
  for (;;) {
    errno = 0;
    if (fflush(f) == 0 && !ferror(f)) return 0;
    if (errno != EINTR) return errno ? errno : EIO;
    clearerr(f);
  }
}

int dq_write_stdout(const char *bytes, size_t count) {
  if (stdout_error == 0) stdout_error = dq_write_all(stdout, bytes, count);
  return stdout_error;
}

void dq_write_stderr(const char *bytes, size_t count) {
  dq_flush_stdout();
  fwrite(bytes, 1, count, stderr);
}

int dq_flush_stdout(void) {
  if (stdout_error == 0) stdout_error = dq_flush(stdout);
  return stdout_error;
}

char *dq_read_stdin_line(size_t *length) {
  char *line = NULL;
  size_t capacity = 0;
  ssize_t n = getline(&line, &capacity, stdin);
  if (n < 0) {
    free(line);
    return NULL;
  }
  *length = (size_t)n;
  return line;
}

char *dq_read_file(const char *path, size_t *length, int *error) {
  *error = 0;
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!f) {
    *error = errno;
    return NULL;
  }
  size_t capacity = 65536, used = 0;
  char *buffer = malloc(capacity);
  if (!buffer) {
    *error = ENOMEM;
    return NULL;
  }
  for (;;) {
    if (used == capacity) {
      capacity *= 2;
      char *grown = realloc(buffer, capacity);
      if (!grown) {
        free(buffer);
        *error = ENOMEM;
        return NULL;
      }
      buffer = grown;
    }
    size_t n = fread(buffer + used, 1, capacity - used, f);
    used += n;
    if (n == 0) break;
  }
  int failed = ferror(f);
  int saved = errno;
  if (f != stdin) fclose(f);
  if (failed) {
    free(buffer);
    *error = saved ? saved : EIO;
    return NULL;
  }
  *length = used;
  return buffer;
}

static void on_sigint(int signo) {
  (void)signo;
  interrupt_flag = 1;
}

void dq_install_sigint_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read returns so the shell can react
  sigaction(SIGINT, &sa, NULL);
  // A parent may have left SIGINT blocked (the mask survives exec): unblock it.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int dq_take_interrupt(void) {
  int was = interrupt_flag;
  interrupt_flag = 0;
  return was;
}

int dq_interrupt_pending(void) { return interrupt_flag; }

/// The temporary `.output` file to remove if a signal ends dq (NULL: none).
static char *volatile cleanup_path = NULL;

void dq_set_cleanup_path(const char *path) {
  char *fresh = path ? strdup(path) : NULL;
  char *old = cleanup_path;
  cleanup_path = fresh;
  free(old);
}

static void on_fatal_signal(int signo) {
  char *path = cleanup_path;
  if (path) unlink(path);
  signal(signo, SIG_DFL);
  raise(signo);
}

void dq_install_cleanup_handlers(int include_sigint) {
  int signals[] = {SIGTERM, SIGHUP, SIGINT};
  int count = include_sigint ? 3 : 2;
  for (int i = 0; i < count; i++) {
    struct sigaction old;
    sigaction(signals[i], NULL, &old);
    if (old.sa_handler == SIG_IGN) continue;  // ignored by the parent (nohup): leave it so
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(signals[i], &sa, NULL);
    // A parent may have left the signal blocked (the mask survives exec): unblock it.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signals[i]);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
  }
}

int dq_terminal_width(int fd) {
  struct winsize ws;
  if (!isatty(fd) || ioctl(fd, TIOCGWINSZ, &ws) != 0) return 0;
  return ws.ws_col;
}
