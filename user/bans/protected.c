// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "bans/protected.h"
#include "bans/bans.h"
#include "lib/paths.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lib/cidr.h"

#define SSH_DEFAULT_PORT     22
#define TCP_ESTABLISHED_HEX  0x01
#define SSHD_CONFIG_DIR_GLOB "/etc/ssh/sshd_config.d/*.conf"

static int protected_add(struct protected_set *set, const struct lpm_key *key,
			 enum protected_kind kind, const char *detail)
{
	struct protected_addr *grown = realloc(set->items, (set->count + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	set->items = grown;
	grown[set->count].key = *key;
	grown[set->count].kind = kind;
	snprintf(grown[set->count].detail, sizeof(grown[set->count].detail), "%s",
		 detail ? detail : "");
	set->count++;
	return 0;
}

static int protected_add_text(struct protected_set *set, const char *text, enum protected_kind kind,
			      const char *detail)
{
	struct lpm_key key;
	char ignored[ERRMSG_LEN];

	if (cidr_parse(text, &key, ignored))
		return 0; /* a link-local address with a zone, say: no ban can name it */
	return protected_add(set, &key, kind, detail);
}

static const void *sockaddr_address(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return &((const struct sockaddr_in *)sa)->sin_addr;
	if (sa->sa_family == AF_INET6)
		return &((const struct sockaddr_in6 *)sa)->sin6_addr;
	return NULL;
}

int protected_add_host(struct protected_set *set, char why[ERRMSG_LEN])
{
	struct ifaddrs *list, *ifa;
	char text[INET6_ADDRSTRLEN];
	int err = 0;

	if (protected_add_text(set, "127.0.0.0/8", PROTECTED_LOOPBACK, "lo") ||
	    protected_add_text(set, "::1", PROTECTED_LOOPBACK, "lo")) {
		errmsg(why, "out of memory");
		return -ENOMEM;
	}
	if (getifaddrs(&list)) {
		err = -errno;
		errmsg(why, "cannot list the host's addresses: %s", strerror(errno));
		return err;
	}
	for (ifa = list; ifa && !err; ifa = ifa->ifa_next) {
		const void *addr = ifa->ifa_addr ? sockaddr_address(ifa->ifa_addr) : NULL;

		if (!addr)
			continue;
		inet_ntop(ifa->ifa_addr->sa_family, addr, text, sizeof(text));
		err = protected_add_text(set, text, PROTECTED_OWN, ifa->ifa_name);
	}
	freeifaddrs(list);
	if (err)
		errmsg(why, "out of memory");
	return err;
}

int protected_add_never(struct protected_set *set, char why[ERRMSG_LEN])
{
	static const struct {
		const char *prefix, *what;
	} reserved[] = {
		{ "0.0.0.0/32", "unspecified" },    { "::/128", "unspecified" },
		{ "224.0.0.0/4", "multicast" },	    { "ff00::/8", "multicast" },
		{ "169.254.0.0/16", "link-local" }, { "fe80::/10", "link-local" },
	};
	static const char *const tables[] = { "/proc/net/route", "/proc/net/ipv6_route" };
	int err = 0;

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]) && !err; i++)
		err = protected_add_text(set, reserved[i].prefix, PROTECTED_RESERVED,
					 reserved[i].what);
	if (err) {
		errmsg(why, "out of memory");
		return err;
	}
	for (size_t i = 0; i < 2 && !err; i++) {
		FILE *table = fopen(tables[i], "re");

		if (!table)
			continue; /* no IPv6, say: no router of it */
		err = protected_parse_routes(set, table, i == 1, why);
		fclose(table);
	}
	return err;
}

/* A /proc/net/route line: "IFACE DEST GATEWAY FLAGS ..." in host-order hex. */
static int parse_route4(struct protected_set *set, const char *line)
{
	char ifname[IF_NAMESIZE + 1], text[INET_ADDRSTRLEN];
	unsigned int dest, gateway, flags, mask;
	struct in_addr addr;

	if (sscanf(line, "%16s %x %x %x %*d %*d %*d %x", ifname, &dest, &gateway, &flags, &mask) !=
		5 ||
	    dest != 0 || mask != 0 || gateway == 0)
		return 0;
	addr.s_addr = gateway; /* the kernel prints the word as it is in memory */
	inet_ntop(AF_INET, &addr, text, sizeof(text));
	return protected_add_text(set, text, PROTECTED_ROUTER, ifname);
}

/* A /proc/net/ipv6_route line: "DEST DLEN SRC SLEN NEXTHOP METRIC REF USE FLAGS IFACE". */
static int parse_route6(struct protected_set *set, const char *line)
{
	char dest[33], hop[33], ifname[IF_NAMESIZE + 1], text[INET6_ADDRSTRLEN];
	unsigned int dest_len;
	struct in6_addr addr;

	if (sscanf(line, "%32s %x %*s %*x %32s %*x %*x %*x %*x %16s", dest, &dest_len, hop,
		   ifname) != 4 ||
	    dest_len != 0 || strspn(hop, "0") == 32 || strlen(hop) != 32)
		return 0;
	for (int i = 0; i < 16; i++) {
		unsigned int byte;

		sscanf(hop + 2 * i, "%2x", &byte);
		addr.s6_addr[i] = (unsigned char)byte;
	}
	inet_ntop(AF_INET6, &addr, text, sizeof(text));
	return protected_add_text(set, text, PROTECTED_ROUTER, ifname);
}

int protected_parse_routes(struct protected_set *set, FILE *table, bool ipv6, char why[ERRMSG_LEN])
{
	char line[512];
	int err = 0;

	while (!err && fgets(line, sizeof(line), table))
		err = ipv6 ? parse_route6(set, line) : parse_route4(set, line);
	if (err)
		errmsg(why, "out of memory");
	return err;
}

static bool port_listed(const struct ssh_ports *ports, unsigned int port)
{
	for (size_t i = 0; i < ports->count; i++) {
		if (ports->port[i] == port)
			return true;
	}
	return false;
}

static void port_add(struct ssh_ports *ports, unsigned long port)
{
	if (port == 0 || port > 65535 || port_listed(ports, (unsigned int)port) ||
	    ports->count == SSH_PORTS_MAX)
		return;
	ports->port[ports->count++] = (uint16_t)port;
}

void protected_ssh_ports_parse(FILE *config, struct ssh_ports *ports)
{
	char line[512];

	while (fgets(line, sizeof(line), config)) {
		char *p = line + strspn(line, " \t"), *end;
		unsigned long port;

		if (strncasecmp(p, "port", 4) != 0 || !isspace((unsigned char)p[4]))
			continue;
		port = strtoul(p + 4, &end, 10);
		if (end != p + 4)
			port_add(ports, port);
	}
}

static void ssh_ports_read_file(const char *path, struct ssh_ports *ports)
{
	FILE *file = fopen(path, "r");

	if (!file)
		return;
	protected_ssh_ports_parse(file, ports);
	fclose(file);
}

void protected_ssh_ports_read(const char *sshd_config, struct ssh_ports *ports)
{
	glob_t extra;

	ports->count = 0;
	port_add(ports, SSH_DEFAULT_PORT);
	ssh_ports_read_file(sshd_config, ports);
	if (strcmp(sshd_config, XDPBAN_SSHD_CONFIG) != 0 ||
	    glob(SSHD_CONFIG_DIR_GLOB, 0, NULL, &extra))
		return;
	for (size_t i = 0; i < extra.gl_pathc; i++)
		ssh_ports_read_file(extra.gl_pathv[i], ports);
	globfree(&extra);
}

/*
 * "0100007F:0016" (IPv4) or 32 hex digits and a port (IPv6): the kernel
 * prints each 32-bit word of the address as the host-order number its
 * bytes make, so the bytes come back by storing the number.
 */
static int parse_tcp_endpoint(const char *text, bool ipv6, struct lpm_key *key, unsigned int *port)
{
	size_t words = ipv6 ? 4 : 1;
	uint32_t word[4];
	char hex[9] = { 0 };
	const char *colon = text + words * 8;

	if (*colon != ':')
		return -EINVAL;
	for (size_t i = 0; i < words; i++) {
		memcpy(hex, text + i * 8, 8);
		word[i] = (uint32_t)strtoul(hex, NULL, 16);
	}
	*port = (unsigned int)strtoul(colon + 1, NULL, 16);
	memset(key, 0, sizeof(*key));
	key->prefixlen = ADDR_LEN * 8;
	if (ipv6) {
		memcpy(key->addr, word, sizeof(word));
	} else {
		key->addr[10] = key->addr[11] = 0xff; /* IPv4-mapped, as every map stores it */
		memcpy(key->addr + 12, word, 4);
	}
	return 0;
}

int protected_parse_tcp_table(struct protected_set *set, FILE *table, bool ipv6,
			      const struct ssh_ports *ports, char why[ERRMSG_LEN])
{
	char line[512], local[64], remote[64];
	unsigned int state, local_port, remote_port;
	struct lpm_key local_key, remote_key;

	while (fgets(line, sizeof(line), table)) {
		char port_text[8];

		/* "  sl  local_address rem_address   st ..." then one socket a line */
		if (sscanf(line, " %*u: %63s %63s %x", local, remote, &state) != 3 ||
		    state != TCP_ESTABLISHED_HEX)
			continue;
		if (parse_tcp_endpoint(local, ipv6, &local_key, &local_port) ||
		    parse_tcp_endpoint(remote, ipv6, &remote_key, &remote_port) ||
		    !port_listed(ports, local_port))
			continue;
		snprintf(port_text, sizeof(port_text), "%u", local_port);
		if (protected_add(set, &remote_key, PROTECTED_SSH_PEER, port_text)) {
			errmsg(why, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

int protected_add_ssh_peers(struct protected_set *set, const struct ssh_ports *ports,
			    char why[ERRMSG_LEN])
{
	static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };

	for (size_t i = 0; i < 2; i++) {
		FILE *table = fopen(tables[i], "r");
		int err;

		if (!table && errno == ENOENT)
			continue; /* IPv6 disabled */
		if (!table) {
			err = -errno;
			errmsg(why, "cannot read %s: %s", tables[i], strerror(errno));
			return err;
		}
		err = protected_parse_tcp_table(set, table, i == 1, ports, why);
		fclose(table);
		if (err)
			return err;
	}
	return 0;
}

int protected_collect(struct protected_set *set, char why[ERRMSG_LEN])
{
	struct ssh_ports ports;
	int err = protected_add_host(set, why);

	if (!err)
		err = protected_add_never(set, why);
	if (err)
		return err;
	protected_ssh_ports_read(XDPBAN_SSHD_CONFIG, &ports);
	return protected_add_ssh_peers(set, &ports, why);
}

static bool overlaps(const struct lpm_key *a, const struct lpm_key *b)
{
	return a->prefixlen <= b->prefixlen ? cidr_contains(a, b) : cidr_contains(b, a);
}

const struct protected_addr *protected_within(const struct protected_set *set,
					      const struct maps *maps, const struct lpm_key *prefix)
{
	for (size_t i = 0; i < set->count; i++) {
		if (overlaps(prefix, &set->items[i].key) &&
		    !bans_allow_covers(maps, &set->items[i].key))
			return &set->items[i];
	}
	return NULL;
}

bool protected_covers(const struct protected_set *set, const struct lpm_key *host)
{
	for (size_t i = 0; i < set->count; i++) {
		if (cidr_contains(&set->items[i].key, host))
			return true;
	}
	return false;
}

void protected_describe(const struct protected_addr *addr, char out[PROTECTED_TEXT_LEN])
{
	char text[CIDR_TEXT_LEN];

	cidr_format(&addr->key, text);
	switch (addr->kind) {
	case PROTECTED_LOOPBACK:
		snprintf(out, PROTECTED_TEXT_LEN, "loopback (%s)", text);
		break;
	case PROTECTED_OWN:
		snprintf(out, PROTECTED_TEXT_LEN, "%s, an address of this host (%s)", text,
			 addr->detail);
		break;
	case PROTECTED_SSH_PEER:
		snprintf(out, PROTECTED_TEXT_LEN,
			 "%s, the client of an established SSH session (port %s)", text,
			 addr->detail);
		break;
	case PROTECTED_RESERVED:
		snprintf(out, PROTECTED_TEXT_LEN, "%s, %s addresses, never a client's", text,
			 addr->detail);
		break;
	case PROTECTED_ROUTER:
		snprintf(out, PROTECTED_TEXT_LEN, "%s, a default router of this host (%s)", text,
			 addr->detail);
		break;
	}
}

void protected_free(struct protected_set *set)
{
	free(set->items);
	set->items = NULL;
	set->count = 0;
}
