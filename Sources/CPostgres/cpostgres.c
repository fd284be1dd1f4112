// See cpostgres.h: libpq through dlopen and function pointers.
#include "cpostgres.h"

#include <dlfcn.h>
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
  loaded = 1;
  return 0;
}

const char *dq_pq_load_error(void) { return load_error; }

dq_pg_conn *dq_pq_connect(const char *conninfo) { return (dq_pg_conn *)p_connectdb(conninfo); }
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
