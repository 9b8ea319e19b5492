/*
 * control.h — what pgattest reads from a data directory's global/pg_control.
 */
#ifndef PGATTEST_PG_CONTROL_H
#define PGATTEST_PG_CONTROL_H

#include <stdint.h>

/* The database system identifier: the first 8 bytes of global/pg_control, in the byte order
 * of the machine that wrote it (this one, for a local cluster). */
int pg_control_system_identifier(const char *pgdata, uint64_t *out);

#endif
