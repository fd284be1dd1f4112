// libpq loaded at run time with dlopen, so dq (a static executable) neither links nor needs
// libpq unless `--engine postgres` is asked for. Only the few calls dq makes are resolved.
#ifndef CPOSTGRES_H
#define CPOSTGRES_H

#include <stddef.h>

/// Loads libpq.so.5 and resolves its functions; 0 on success, else -1 with a message from
/// dq_pq_load_error(). Safe to call again (loads once).
int dq_pq_load(void);
const char *dq_pq_load_error(void);

/// Opaque libpq handles.
typedef struct dq_pg_conn dq_pg_conn;
typedef struct dq_pg_result dq_pg_result;

/// Connects; the server's notices and warnings are kept (dq_pq_last_notice), not printed.
dq_pg_conn *dq_pq_connect(const char *conninfo);
/// The last notice or warning a connection received ("" when none since dq_pq_clear_notice):
/// a server shutting down says so in a warning just before the connection is lost.
const char *dq_pq_last_notice(void);
void dq_pq_clear_notice(void);
/// 1 when the connection is ok.
int dq_pq_ok(const dq_pg_conn *conn);
const char *dq_pq_error_message(const dq_pg_conn *conn);
void dq_pq_finish(dq_pg_conn *conn);

dq_pg_result *dq_pq_exec(dq_pg_conn *conn, const char *sql);
/// 0 command ok, 1 tuples ok, 2 copy in, 3 error (anything else).
int dq_pq_result_kind(const dq_pg_result *res);
/// A field of the error ('C' SQLSTATE, 'M' message, 'D' detail, 'H' hint), or NULL.
const char *dq_pq_error_field(const dq_pg_result *res, int field);
const char *dq_pq_result_error(const dq_pg_result *res);
int dq_pq_ntuples(const dq_pg_result *res);
/// The number of rows an INSERT, UPDATE, DELETE, ... affected, as text ("" for other commands).
const char *dq_pq_cmd_tuples(dq_pg_result *res);
int dq_pq_nfields(const dq_pg_result *res);
const char *dq_pq_value(const dq_pg_result *res, int row, int column);
int dq_pq_is_null(const dq_pg_result *res, int row, int column);
void dq_pq_clear(dq_pg_result *res);

/// COPY ... FROM STDIN after dq_pq_exec returned kind 2: 1 ok, -1 error.
int dq_pq_put_copy_data(dq_pg_conn *conn, const char *buffer, int bytes);
int dq_pq_put_copy_end(dq_pg_conn *conn);
/// The next result after a copy (NULL when none is left).
dq_pg_result *dq_pq_get_result(dq_pg_conn *conn);

/// Sends a query without waiting for its result (PQsendQuery): 1 ok, -1 error.
int dq_pq_send(dq_pg_conn *conn, const char *sql);
/// Waits at most `timeout_ms` for the server (returning early when a signal arrives, so a
/// Ctrl-C is seen at once): 1 when a result can be taken without blocking, 0 not yet, -1 when
/// the connection failed.
int dq_pq_wait(dq_pg_conn *conn, int timeout_ms);
/// Asks the server to cancel the statement the connection is running (PQcancel): 1 when the
/// request was sent, -1 when it could not be.
int dq_pq_cancel(dq_pg_conn *conn);

#endif
