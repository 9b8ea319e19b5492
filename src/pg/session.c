#include "pg/session.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"

struct pg_session {
    PGconn *conn;
};

/* libpq's messages end in a newline and may span lines; we print one line. */
static const char *one_line(const char *msg, char *out, size_t len)
{
    size_t j = 0;
    for (size_t i = 0; msg && msg[i] && j + 1 < len; i++) {
        bool space = msg[i] == '\n' || msg[i] == '\r' || msg[i] == '\t' || msg[i] == ' ';
        if (!space)
            out[j++] = msg[i];
        else if (j > 0 && out[j - 1] != ' ')
            out[j++] = ' ';
    }
    while (j > 0 && out[j - 1] == ' ')
        j--;
    out[j] = '\0';
    return out;
}

/* Server notices ("all required WAL segments have been archived") are progress, not errors. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    char line[512];
    log_verbose("server: %s", one_line(message, line, sizeof line));
}

pg_session *pg_session_open(const char *conninfo)
{
    const char *keys[] = {"dbname", "fallback_application_name", NULL};
    const char *values[] = {conninfo && *conninfo ? conninfo : NULL, "pgattest", NULL};
    if (!values[0]) { /* environment only: skip the dbname slot */
        keys[0] = "fallback_application_name";
        values[0] = "pgattest";
        keys[1] = values[1] = NULL;
    }
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (!conn) {
        err_set("cannot connect to PostgreSQL: out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[512];
        err_set("cannot connect to PostgreSQL: %s (set PGHOST/PGPORT/PGUSER or --dbname)",
                one_line(PQerrorMessage(conn), msg, sizeof msg));
        PQfinish(conn);
        return NULL;
    }
    pg_session *s = calloc(1, sizeof *s);
    if (!s) {
        PQfinish(conn);
        err_set("out of memory");
        return NULL;
    }
    s->conn = conn;
    PQsetNoticeProcessor(conn, on_notice, NULL);
    return s;
}

void pg_session_close(pg_session *s)
{
    if (!s)
        return;
    PQfinish(s->conn);
    free(s);
}

void pg_values_free(char **values, int n)
{
    for (int i = 0; i < n; i++) {
        free(values[i]);
        values[i] = NULL;
    }
}

int pg_query_row(pg_session *s, const char *what, const char *sql, int nparams,
                 const char *const *params, int ncols, char **values)
{
    for (int i = 0; i < ncols; i++)
        values[i] = NULL;
    PGresult *res = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    int rc = PA_ERR;
    char msg[512];
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        err_set("%s failed: %s", what,
                one_line(res ? PQresultErrorMessage(res) : PQerrorMessage(s->conn), msg,
                         sizeof msg));
        goto out;
    }
    if (PQntuples(res) != 1 || PQnfields(res) != ncols) {
        err_set("%s returned %d rows of %d columns, expected 1 row of %d", what, PQntuples(res),
                PQnfields(res), ncols);
        goto out;
    }
    for (int i = 0; i < ncols; i++) {
        if (PQgetisnull(res, 0, i))
            continue;
        if (!(values[i] = strdup(PQgetvalue(res, 0, i)))) {
            pg_values_free(values, ncols);
            err_set("out of memory");
            goto out;
        }
    }
    rc = PA_OK;
out:
    PQclear(res);
    return rc;
}

int pg_exec(pg_session *s, const char *what, const char *sql)
{
    PGresult *res = PQexec(s->conn, sql);
    int rc = PA_OK;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        char msg[512];
        rc = err_set("%s failed: %s", what,
                     one_line(res ? PQresultErrorMessage(res) : PQerrorMessage(s->conn), msg,
                              sizeof msg));
    }
    PQclear(res);
    return rc;
}
