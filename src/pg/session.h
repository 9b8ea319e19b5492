/*
 * session.h — a libpq connection and the few query shapes backup-push needs.
 *
 * Connection parameters come from libpq's environment (PGHOST, PGPORT, PGUSER, ...) and an
 * optional conninfo string / URI (--dbname). Every query result is one row; its values are
 * copied out so callers never hold a PGresult.
 */
#ifndef PGATTEST_PG_SESSION_H
#define PGATTEST_PG_SESSION_H

#include <stddef.h>

typedef struct pg_session pg_session;

/* conninfo may be NULL (environment only). Returns NULL with err_msg() set. */
pg_session *pg_session_open(const char *conninfo);
/* Closing a session that is in a non-exclusive backup makes the server abort that backup. */
void pg_session_close(pg_session *s);

/* Run `sql` with text parameters (nparams may be 0) that returns exactly one row of ncols
 * columns. On success values[i] are malloc'd strings (NULL for SQL NULL) that the caller frees
 * with pg_values_free. `what` names the query in error messages. */
int pg_query_row(pg_session *s, const char *what, const char *sql, int nparams,
                 const char *const *params, int ncols, char **values);
void pg_values_free(char **values, int n);
/* Run a statement that returns no rows (SET ...). */
int pg_exec(pg_session *s, const char *what, const char *sql);

#endif
