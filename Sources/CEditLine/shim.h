// libedit's readline-compatible API (Debian's libedit-dev). Spelled <editline/readline.h> so
// GNU readline's header, also present on some machines, is never picked by mistake.
#include <stdio.h>
#include <editline/readline.h>
