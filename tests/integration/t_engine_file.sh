#!/bin/bash
# The engine suite (wal-push, wal-fetch, archive_command, restore_command) on a file:// repository.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/pg.sh"
. "$TOP/tests/lib/engine_suite.sh"

engine_suite "$(new_repo repo)"
