/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The self-lockout guard: the addresses a ban or a country block must not
 * cover, lest the operator lose the host. Loopback, the host's own
 * addresses (of the network namespace the caller runs in: the one of the
 * protected interface) and the peers of established SSH sessions to the
 * host (/proc/net/tcp and tcp6 of that namespace; the SSH ports are 22 and
 * every `Port` of sshd's config).
 */
#ifndef XDPBAN_LOCKOUT_H
#define XDPBAN_LOCKOUT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "lib/cidr.h"
#include "lib/errmsg.h"
#include "kernel/pins.h"

#define SSH_PORTS_MAX 16
/* The longest: "ADDR, the client of an established SSH session (port PORT)". */
#define PROTECTED_TEXT_LEN (CIDR_TEXT_LEN + IF_NAMESIZE + 64)

enum protected_kind {
	PROTECTED_LOOPBACK,
	PROTECTED_OWN,	    /* an address of one of the host's interfaces */
	PROTECTED_SSH_PEER, /* the client of an established SSH session */
	PROTECTED_RESERVED, /* unspecified, multicast, link-local: never a client */
	PROTECTED_ROUTER,   /* a default router of this network namespace */
};

struct protected_addr {
	struct lpm_key key; /* a prefix for loopback, else one address */
	enum protected_kind kind;
	char detail[IF_NAMESIZE]; /* the interface, or the SSH port */
};

struct protected_set {
	struct protected_addr *items;
	size_t count;
};

struct ssh_ports {
	uint16_t port[SSH_PORTS_MAX];
	size_t count;
};

/* Loopback and the addresses of every interface of this network namespace. */
int protected_add_host(struct protected_set *set, char why[ERRMSG_LEN]);

/* The peers of established TCP connections to one of ports, from /proc/net/tcp{,6}. */
int protected_add_ssh_peers(struct protected_set *set, const struct ssh_ports *ports,
			    char why[ERRMSG_LEN]);

/*
 * Parses one /proc/net/tcp (ipv6 false) or /proc/net/tcp6 table, adding
 * the remote address of every ESTABLISHED socket whose local port is one
 * of ports.
 */
int protected_parse_tcp_table(struct protected_set *set, FILE *table, bool ipv6,
			      const struct ssh_ports *ports, char why[ERRMSG_LEN]);

/* Port 22 and every "Port N" line of sshd_config (a missing file: 22 alone). */
void protected_ssh_ports_read(const char *sshd_config, struct ssh_ports *ports);
/* The same from an open stream. */
void protected_ssh_ports_parse(FILE *config, struct ssh_ports *ports);

/*
 * What no one should ever ban: the unspecified addresses (0.0.0.0, ::),
 * multicast (224.0.0.0/4, ff00::/8), link-local (169.254.0.0/16, fe80::/10)
 * and the default routers of this network namespace (/proc/net/route and
 * /proc/net/ipv6_route: a ban of the router cuts every client behind it).
 */
int protected_add_never(struct protected_set *set, char why[ERRMSG_LEN]);

/* The gateways of the default routes in a /proc/net/route (ipv6 false) or ipv6_route table. */
int protected_parse_routes(struct protected_set *set, FILE *table, bool ipv6, char why[ERRMSG_LEN]);

/* Everything a command must not ban: host addresses, never-banned ones, then SSH peers. */
int protected_collect(struct protected_set *set, char why[ERRMSG_LEN]);

/*
 * The first protected address inside prefix that the allowlist map does not
 * already cover (maps may be NULL: no allowlist). NULL when none.
 */
const struct protected_addr *protected_within(const struct protected_set *set,
					      const struct maps *maps,
					      const struct lpm_key *prefix);

/* True when host lies inside one of the set's entries. */
bool protected_covers(const struct protected_set *set, const struct lpm_key *host);

/* "192.0.2.1, an address of this host (eth0)". */
void protected_describe(const struct protected_addr *addr, char out[PROTECTED_TEXT_LEN]);

void protected_free(struct protected_set *set);

#endif
