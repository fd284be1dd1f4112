// SQLite's C API (Debian's libsqlite3-dev), for `.attach`, `.import FILE.db` and
// `.export RELATION FILE.db`.
#include <sqlite3.h>
