/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Country codes: two letters, stored upper-case, and their slot in the geo
 * maps, (c0 - 'A') * 26 + (c1 - 'A') as the map ABI defines (COUNTRY_SLOTS).
 *
 * Valid codes are the ISO 3166-1 alpha-2 list plus a few codes that real
 * country databases use although ISO does not assign them: the RIR and
 * MaxMind regions EU and AP, reserved ISO codes still found in registry data
 * (UK, SU, AN, CS, UN), XK (Kosovo, MaxMind and GeoNames) and AB and OS
 * (IPFire's location data, which tor-geoipdb is made from). Without them the
 * default database would not load: every reader rejects a file with an
 * unknown code.
 */
#ifndef XDPBAN_COUNTRY_H
#define XDPBAN_COUNTRY_H

#include <stdbool.h>
#include <stdio.h>
#include "lib/errmsg.h"
#include "xdpban_maps.h"

#define COUNTRY_CODE_LEN 3 /* two letters and a NUL */

/*
 * Parses a country code, either case, with no surrounding space.
 * Returns its slot (0 .. COUNTRY_SLOTS - 1); or -ENOENT for "??" and "ZZ",
 * which databases write for "no country known" (the caller skips the line);
 * or -EINVAL when text is not two letters, or -ESRCH when it is two letters
 * but not a valid code (print country_print_valid() after the message), both
 * with the reason in why.
 */
int country_parse(const char *text, char why[ERRMSG_LEN]);

bool country_slot_is_valid(int slot);

/*
 * The slot of a code already in the maps' form (two upper-case letters, as
 * geo_entry and geo_prefix hold it), or -1 for anything else.
 */
int country_slot_of_code(const char *code);

/* The two upper-case letters of a slot, whether or not the code is valid. */
void country_code(int slot, char code[COUNTRY_CODE_LEN]);

/* English short name, or NULL when the slot is not a valid code. */
const char *country_name(int slot);

/* Prints the valid codes, ISO first and then the other accepted ones, for error messages. */
void country_print_valid(FILE *out);

#endif
