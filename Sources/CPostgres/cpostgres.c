// See cpostgres.h: libpq through dlopen and function pointers.
#include "cpostgres.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>

// libpq's values (libpq-fe.h): ConnStatusType CONNECTION_OK = 0; ExecStatusType below.
enum { PGRES_COMMAND_OK = 1, PGRES_TUPLES_OK = 2, PGRES_COPY_IN = 4 };

static void *(*p_connectdb)(const char *);
static int (*p_status)(const void *);
static char *(*p_error_message)(const void *);
static void (*p_finish)(void *);
static void *(*p_exec)(void *, const char *);
static int (*p_result_status)(const void *);
static char *(*p_result_error_field)(const void *, int);
static char *(*p_result_error_message)(const void *);
static int (*p_ntuples)(const void *);
static char *(*p_cmd_tuples)(void *);
static int (*p_nfields)(const void *);
static char *(*p_getvalue)(const void *, int, int);
static int (*p_getisnull)(const void *, int, int);
static void (*p_clear)(void *);
static int (*p_put_copy_data)(void *, const char *, int);
static int (*p_put_copy_end)(void *, const char *);
static void *(*p_get_result)(void *);
static int (*p_send_query)(void *, const char *);
static int (*p_consume_input)(void *);
static int (*p_is_busy)(void *);
static int (*p_socket)(const void *);
static void *(*p_get_cancel)(void *);
static int (*p_cancel)(void *, char *, int);
static void (*p_free_cancel)(void *);
static void *(*p_set_notice_processor)(void *, void (*)(void *, const char *), void *);

static int loaded = 0;
static char load_error[512];

#define RESOLVE(var, name)                                                                    \
  do {                                                                                        \
    *(void **)(&var) = dlsym(lib, name);                                                      \
    if (!var) {                                                                               \
      snprintf(load_error, sizeof load_error, "libpq has no %s", name);                       \
      return -1;                                                                              \
    }                                                                                         \
  } while (0)

int dq_pq_load(void) {
  if (loaded) return 0;
  void *lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *e = dlerror();
    snprintf(load_error, sizeof load_error, "%s", e ? e : "libpq.so.5 not found");
    return -1;
  }
  RESOLVE(p_connectdb, "PQconnectdb");
  RESOLVE(p_status, "PQstatus");
  RESOLVE(p_error_message, "PQerrorMessage");
  RESOLVE(p_finish, "PQfinish");
  RESOLVE(p_exec, "PQexec");
  RESOLVE(p_result_status, "PQresultStatus");
  RESOLVE(p_result_error_field, "PQresultErrorField");
  RESOLVE(p_result_error_message, "PQresultErrorMessage");
  RESOLVE(p_ntuples, "PQntuples");
  RESOLVE(p_cmd_tuples, "PQcmdTuples");
  RESOLVE(p_nfields, "PQnfields");
  RESOLVE(p_getvalue, "PQgetvalue");
  RESOLVE(p_getisnull, "PQgetisnull");
  RESOLVE(p_clear, "PQclear");
  RESOLVE(p_put_copy_data, "PQputCopyData");
  RESOLVE(p_put_copy_end, "PQputCopyEnd");
  RESOLVE(p_get_result, "PQgetResult");
  RESOLVE(p_send_query, "PQsendQuery");
  RESOLVE(p_consume_input, "PQconsumeInput");
  RESOLVE(p_is_busy, "PQisBusy");
  RESOLVE(p_socket, "PQsocket");
  RESOLVE(p_get_cancel, "PQgetCancel");
  RESOLVE(p_cancel, "PQcancel");
  RESOLVE(p_free_cancel, "PQfreeCancel");
  RESOLVE(p_set_notice_processor, "PQsetNoticeProcessor");
  loaded = 1;
  return 0;
}

const char *dq_pq_load_error(void) { return load_error; }

/// The last notice or warning the server sent (libpq would print it to standard error).
static char last_notice[512];

static void on_notice(void *arg, const char *message) {
  (void)arg;
  snprintf(last_notice, sizeof last_notice, "%s", message ? message : "");
}

dq_pg_conn *dq_pq_connect(const char *conninfo) {
  void *conn = p_connectdb(conninfo);
  if (conn) p_set_notice_processor(conn, on_notice, NULL);
  return (dq_pg_conn *)conn;
}

const char *dq_pq_last_notice(void) { return last_notice; }
void dq_pq_clear_notice(void) { last_notice[0] = 0; }
int dq_pq_ok(const dq_pg_conn *conn) { return conn && p_status(conn) == 0; }
const char *dq_pq_error_message(const dq_pg_conn *conn) { return conn ? p_error_message(conn) : "out of memory"; }
void dq_pq_finish(dq_pg_conn *conn) { if (conn) p_finish(conn); }

dq_pg_result *dq_pq_exec(dq_pg_conn *conn, const char *sql) { return (dq_pg_result *)p_exec(conn, sql); }
int dq_pq_result_kind(const dq_pg_result *res) {
  if (!res) return 3;
  switch (p_result_status(res)) {
  case PGRES_COMMAND_OK: return 0;
  case PGRES_TUPLES_OK: return 1;
  case PGRES_COPY_IN: return 2;
  default: return 3;
  }
}
const char *dq_pq_error_field(const dq_pg_result *res, int field) { return res ? p_result_error_field(res, field) : NULL; }
const char *dq_pq_result_error(const dq_pg_result *res) { return res ? p_result_error_message(res) : "no result"; }
int dq_pq_ntuples(const dq_pg_result *res) { return p_ntuples(res); }
const char *dq_pq_cmd_tuples(dq_pg_result *res) { return p_cmd_tuples(res); }
int dq_pq_nfields(const dq_pg_result *res) { return p_nfields(res); }
const char *dq_pq_value(const dq_pg_result *res, int row, int column) { return p_getvalue(res, row, column); }
int dq_pq_is_null(const dq_pg_result *res, int row, int column) { return p_getisnull(res, row, column); }
void dq_pq_clear(dq_pg_result *res) { if (res) p_clear(res); }

int dq_pq_put_copy_data(dq_pg_conn *conn, const char *buffer, int bytes) { return p_put_copy_data(conn, buffer, bytes) == 1 ? 1 : -1; }
int dq_pq_put_copy_end(dq_pg_conn *conn) { return p_put_copy_end(conn, NULL) == 1 ? 1 : -1; }
dq_pg_result *dq_pq_get_result(dq_pg_conn *conn) { return (dq_pg_result *)p_get_result(conn); }

int dq_pq_send(dq_pg_conn *conn, const char *sql) { return p_send_query(conn, sql) == 1 ? 1 : -1; }

int dq_pq_wait(dq_pg_conn *conn, int timeout_ms) {
  if (!p_is_busy(conn)) return 1;
  int fd = p_socket(conn);
  if (fd < 0) return -1;
  struct pollfd pfd = {.fd = fd, .events = POLLIN, .revents = 0};
  int n = poll(&pfd, 1, timeout_ms);
  if (n < 0) return errno == EINTR ? 0 : -1;
  if (n == 0) return 0;
  if (p_consume_input(conn) != 1) return -1;
  return p_is_busy(conn) ? 0 : 1;
}

int dq_pq_cancel(dq_pg_conn *conn) {
  void *cancel = p_get_cancel(conn);
  if (!cancel) return -1;
  char error[256];
  int ok = p_cancel(cancel, error, (int)sizeof error);
  p_free_cancel(cancel);
  return ok == 1 ? 1 : -1;
}
