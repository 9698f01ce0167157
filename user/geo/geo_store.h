/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The loaded country database, kept in the state directory. Only the
 * prefixes of blocked countries go into the kernel (see geo.h for why), so
 * `geo block` needs the whole database at hand: this is where it lives.
 */
#ifndef XDPBAN_GEO_STORE_H
#define XDPBAN_GEO_STORE_H

#include "lib/errmsg.h"
#include "geo/geo_db.h"

#define GEO_STORE_FILE "geo.db"

/* Writes a finished db to STATE_DIR/geo.db atomically (temporary file, fsync, rename). */
int geo_store_save(const char *state_dir, const struct geo_db *db, char why[ERRMSG_LEN]);

/*
 * Reads the saved database into db (finished: prefixes and counts set).
 * Returns -ENOENT, with why telling how to load one, when none was saved.
 */
int geo_store_load(const char *state_dir, struct geo_db *db, char why[ERRMSG_LEN]);

#endif
