/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The policy endpoint's API key when the config names none: STATE_DIR/
 * policy.key, made at first start (32 random bytes as hex, mode 0600, no
 * newline, so that Dovecot reads it whole with
 * auth_policy_server_api_header = <STATE_DIR/policy.key). Without a key any
 * local user could ban addresses, block accounts and read /metrics through
 * the endpoint on loopback.
 */
#ifndef XDPBAN_POLICY_KEY_H
#define XDPBAN_POLICY_KEY_H

#include <stdbool.h>
#include "lib/errmsg.h"

#define POLICY_KEY_FILE "policy.key"
#define POLICY_KEY_LEN	65 /* 64 hex digits and the NUL */

/*
 * The key in state_dir's file, made first when there is none (*made says
 * so). A file that is a link, not a regular file, readable by others than
 * its owner, or not one printable word is refused: 0, or -errno with why.
 */
int policy_key_load(const char *state_dir, char key[POLICY_KEY_LEN], bool *made,
		    char why[ERRMSG_LEN]);

#endif
