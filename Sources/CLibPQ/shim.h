#ifndef BACKBONE_CLIBPQ_SHIM_H
#define BACKBONE_CLIBPQ_SHIM_H
// Debian installs libpq's headers under /usr/include/postgresql; pkg-config adds that
// folder, and the fallback keeps the build working where pkg-config is absent.
#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>
#endif
#endif
