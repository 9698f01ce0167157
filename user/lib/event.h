/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One authentication outcome, as every event source reports it (log
 * parsers, the control socket's `xdpban event`, later the Dovecot policy
 * endpoint) and as the rules consume it.
 */
#ifndef XDPBAN_EVENT_H
#define XDPBAN_EVENT_H

#include "xdpban_maps.h"

#define EVENT_USER_LEN	  256 /* longer names are truncated */
#define EVENT_SERVICE_LEN 32
#define EVENT_HASH_LEN	  72 /* a password hash as the source gives it, hex or base64 */

enum auth_outcome {
	AUTH_FAIL,
	AUTH_OK,
};

struct auth_event {
	enum auth_outcome outcome;
	struct addr_key ip;	   /* the client, as the server wrote it; IPv4 as ::ffff:a.b.c.d */
	char user[EVENT_USER_LEN]; /* "" when the source does not say */
	char service[EVENT_SERVICE_LEN]; /* "imap", "pop3", "smtp", "sieve", "ssh", ... */
	char pwhash[EVENT_HASH_LEN];	 /* "" when the source gives none */
	unsigned int attempts;		 /* failures this event stands for, >= 1 */
};

#endif
