// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "peers/dnsbl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include "lib/duration.h"
#include "lib/siphash.h"
#include "lib/subloop.h"

#define TIMER_TAG    (-1) /* epoll data of the timer; sockets carry their descriptor */
#define EPOLL_BATCH  16
#define V4_MAPPED    12	 /* bytes of the ::ffff:0:0/96 prefix */
#define LISTED_FIRST 127 /* DNSBL answers are 127.0.0.0/8 */

enum cache_state { CACHE_EMPTY, CACHE_PENDING, CACHE_LISTED, CACHE_CLEAN };

struct cache_slot {
	struct addr_key ip;
	uint8_t state; /* enum cache_state */
	uint8_t zone;  /* when listed: the index of the zone that lists it */
	uint64_t until_ns;
};

/* One address looked up in every zone. */
struct lookup {
	struct dnsbl *dnsbl;
	struct addr_key ip;
	unsigned int remaining; /* zones still to answer */
	int listed_zone;	/* -1: none so far */
	uint32_t ttl;		/* of the listing */
	bool failed;		/* a zone did not answer */
};

struct dnsbl {
	struct dnsbl_hooks hooks;
	char zones[DNSBL_MAX_ZONES][DNSBL_NAME_LEN];
	size_t zone_count;
	uint64_t timeout_ns;
	ares_channel channel;
	bool channel_ready;
	struct subloop loop; /* c-ares' sockets and its timeouts */
	struct siphash_key key;
	struct cache_slot *cache;
	unsigned int in_flight;
	bool closing;
	struct dnsbl_counters counters;
};

static bool is_v4(const struct addr_key *ip)
{
	static const uint8_t prefix[V4_MAPPED] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(ip->addr, prefix, sizeof(prefix)) == 0;
}

bool dnsbl_query_name(const struct addr_key *ip, const char *zone, char name[DNSBL_NAME_LEN])
{
	static const char hex[] = "0123456789abcdef";
	size_t used = 0;
	int n;

	if (is_v4(ip)) {
		const uint8_t *a = ip->addr + V4_MAPPED;

		n = snprintf(name, DNSBL_NAME_LEN, "%u.%u.%u.%u.%s", a[3], a[2], a[1], a[0], zone);
		return n > 0 && n < DNSBL_NAME_LEN;
	}
	for (int i = ADDR_LEN - 1; i >= 0; i--) {
		name[used++] = hex[ip->addr[i] & 0xf];
		name[used++] = '.';
		name[used++] = hex[ip->addr[i] >> 4];
		name[used++] = '.';
	}
	n = snprintf(name + used, DNSBL_NAME_LEN - used, "%s", zone);
	return n >= 0 && (size_t)n < DNSBL_NAME_LEN - used;
}

/* ---- the cache ---- */

static struct cache_slot *slot_of(struct dnsbl *d, const struct addr_key *ip)
{
	return &d->cache[siphash64(&d->key, ip, sizeof(*ip)) % DNSBL_CACHE_SLOTS];
}

static void remember(struct dnsbl *d, const struct lookup *lookup)
{
	struct cache_slot *slot = slot_of(d, &lookup->ip);
	uint64_t ttl_s = lookup->listed_zone >= 0 ? lookup->ttl
			 : lookup->failed	  ? DNSBL_ERROR_TTL_S
						  : DNSBL_NEGATIVE_TTL_S;

	slot->ip = lookup->ip;
	slot->state = lookup->listed_zone >= 0 ? CACHE_LISTED : CACHE_CLEAN;
	slot->zone = (uint8_t)(lookup->listed_zone >= 0 ? lookup->listed_zone : 0);
	slot->until_ns = clock_now_ns() + (ttl_s ? ttl_s : 1) * NSEC_PER_SEC;
}

/* ---- answers ---- */

/* The smallest TTL of the A records in 127.0.0.0/8, or -1 when there is none. */
static long listed_ttl(const unsigned char *answer, int len)
{
	struct ares_addrttl addrs[16];
	int count = 16;
	long ttl = -1;

	if (ares_parse_a_reply(answer, len, NULL, addrs, &count) != ARES_SUCCESS)
		return -1;
	for (int i = 0; i < count; i++) {
		const uint8_t *a = (const uint8_t *)&addrs[i].ipaddr.s_addr;

		if (a[0] == LISTED_FIRST && (ttl < 0 || addrs[i].ttl < ttl))
			ttl = addrs[i].ttl < 0 ? 0 : addrs[i].ttl;
	}
	return ttl;
}

static void finish(struct lookup *lookup)
{
	struct dnsbl *d = lookup->dnsbl;

	d->in_flight--;
	remember(d, lookup);
	if (lookup->listed_zone >= 0) {
		d->counters.listed++;
		d->hooks.listed(d->hooks.ctx, &lookup->ip, d->zones[lookup->listed_zone],
				lookup->ttl);
	} else if (lookup->failed) {
		d->counters.errors++;
	} else {
		d->counters.not_listed++;
	}
	free(lookup);
}

struct zone_query {
	struct lookup *lookup;
	int zone;
};

static void on_answer(void *arg, int status, int timeouts, unsigned char *answer, int len)
{
	struct zone_query *query = arg;
	struct lookup *lookup = query->lookup;
	struct dnsbl *d = lookup->dnsbl;
	long ttl = status == ARES_SUCCESS ? listed_ttl(answer, len) : -1;

	(void)timeouts;
	if (ttl >= 0 && lookup->listed_zone < 0) {
		lookup->listed_zone = query->zone;
		lookup->ttl = (uint32_t)ttl;
	} else if (status != ARES_SUCCESS && status != ARES_ENOTFOUND && status != ARES_ENODATA) {
		lookup->failed = true;
		if (!d->closing)
			log_say(LOG_LEVEL_DEBUG, "DNSBL %s: %s", d->zones[query->zone],
				ares_strerror(status));
	}
	free(query);
	if (--lookup->remaining == 0) {
		if (d->closing) {
			d->in_flight--;
			free(lookup);
		} else {
			finish(lookup);
		}
	}
}

/* ---- c-ares in the epoll set ---- */

static void on_socket_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dnsbl *d = data;
	struct epoll_event ev = { .events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0),
				  .data.fd = fd };

	if (!ev.events) {
		epoll_ctl(d->loop.epoll_fd, EPOLL_CTL_DEL, fd, NULL);
		return;
	}
	if (epoll_ctl(d->loop.epoll_fd, EPOLL_CTL_MOD, fd, &ev) && errno == ENOENT)
		epoll_ctl(d->loop.epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

/* The timer follows c-ares' next timeout (or is disarmed when nothing is pending). */
static void rearm(struct dnsbl *d)
{
	struct timeval tv, *next = ares_timeout(d->channel, NULL, &tv);
	uint64_t ns =
	    next ? (uint64_t)next->tv_sec * NSEC_PER_SEC + (uint64_t)next->tv_usec * 1000 : 0;

	subloop_arm(&d->loop, next && !ns ? 1 : ns); /* due now: 1 ns, as 0 would disarm */
}

/* The set is ready: its timer, or c-ares' sockets. */
static void on_ready(void *ctx, uint32_t set_events)
{
	struct dnsbl *d = ctx;
	struct epoll_event ready[EPOLL_BATCH];
	int n = epoll_wait(d->loop.epoll_fd, ready, EPOLL_BATCH, 0);

	(void)set_events;
	for (int i = 0; i < n; i++) {
		int fd = ready[i].data.fd;

		if (fd == TIMER_TAG) {
			if (subloop_timer_fired(&d->loop))
				ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		ares_process_fd(d->channel,
				ready[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP) ? fd
										  : ARES_SOCKET_BAD,
				ready[i].events & EPOLLOUT ? fd : ARES_SOCKET_BAD);
	}
	rearm(d);
}

/* ---- checks ---- */

static void start_lookup(struct dnsbl *d, const struct addr_key *ip, struct cache_slot *slot)
{
	struct lookup *lookup;
	char name[DNSBL_NAME_LEN];

	if (d->in_flight >= DNSBL_MAX_IN_FLIGHT || !(lookup = calloc(1, sizeof(*lookup)))) {
		d->counters.skipped++;
		return;
	}
	*lookup = (struct lookup){ .dnsbl = d, .ip = *ip, .listed_zone = -1 };
	*slot = (struct cache_slot){ .ip = *ip,
				     .state = CACHE_PENDING,
				     .until_ns = clock_now_ns() + d->timeout_ns };
	d->in_flight++;
	d->counters.lookups++;
	lookup->remaining = (unsigned int)d->zone_count;
	for (size_t z = 0; z < d->zone_count; z++) {
		struct zone_query *query = malloc(sizeof(*query));

		if (!query || !dnsbl_query_name(ip, d->zones[z], name)) {
			free(query);
			lookup->failed = true;
			if (--lookup->remaining == 0)
				finish(lookup);
			continue;
		}
		*query = (struct zone_query){ lookup, (int)z };
		ares_query(d->channel, name, ns_c_in, ns_t_a, on_answer, query);
	}
	rearm(d);
}

bool dnsbl_check(struct dnsbl *d, const struct addr_key *ip)
{
	struct cache_slot *slot = slot_of(d, ip);
	bool known = slot->state != CACHE_EMPTY && memcmp(&slot->ip, ip, sizeof(*ip)) == 0 &&
		     slot->until_ns > clock_now_ns();

	if (known) {
		d->counters.cache_hits++;
		return slot->state == CACHE_LISTED;
	}
	start_lookup(d, ip, slot);
	return false;
}

void dnsbl_get_counters(const struct dnsbl *d, struct dnsbl_counters *counters)
{
	*counters = d->counters;
}

/* ---- open and close ---- */

static int split_zones(struct dnsbl *d, const char *list, char why[ERRMSG_LEN])
{
	const char *start = list;

	while (*start) {
		size_t len = strcspn(start, ",");

		if (d->zone_count == DNSBL_MAX_ZONES) {
			errmsg(why, "DNSBL: more than %d zones in '%s'", DNSBL_MAX_ZONES, list);
			return -EINVAL;
		}
		snprintf(d->zones[d->zone_count++], DNSBL_NAME_LEN, "%.*s", (int)len, start);
		start += len + (start[len] == ',');
	}
	return 0;
}

static int open_channel(struct dnsbl *d, const struct conf_dnsbl *conf, char why[ERRMSG_LEN])
{
	struct ares_options options = { .timeout = (int)(conf->lookup_timeout * 1000),
					.tries = 1,
					.sock_state_cb = on_socket_state,
					.sock_state_cb_data = d };
	int status = ares_library_init(ARES_LIB_INIT_ALL);

	if (status == ARES_SUCCESS)
		status =
		    ares_init_options(&d->channel, &options,
				      ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB);
	if (status != ARES_SUCCESS) {
		errmsg(why, "DNSBL: cannot set up the resolver: %s", ares_strerror(status));
		return -EINVAL;
	}
	d->channel_ready = true;
	if (strcmp(conf->resolver, "off") != 0 &&
	    (status = ares_set_servers_ports_csv(d->channel, conf->resolver)) != ARES_SUCCESS) {
		errmsg(why, "DNSBL: resolver '%s': %s", conf->resolver, ares_strerror(status));
		return -EINVAL;
	}
	return 0;
}

struct dnsbl *dnsbl_open(const struct conf_dnsbl *conf, struct loop *loop,
			 const struct dnsbl_hooks *hooks, char why[ERRMSG_LEN])
{
	struct dnsbl *d = calloc(1, sizeof(*d));
	why[0] = '\0';
	if (!d || !(d->cache = calloc(DNSBL_CACHE_SLOTS, sizeof(*d->cache)))) {
		free(d);
		errmsg(why, "out of memory");
		return NULL;
	}
	d->hooks = *hooks;
	d->timeout_ns = conf->lookup_timeout * NSEC_PER_SEC;
	if (subloop_open(&d->loop, loop, (uint32_t)TIMER_TAG, on_ready, d, "DNSBL", why)) {
		dnsbl_close(d);
		return NULL;
	}
	if (siphash_key_random(&d->key) || split_zones(d, conf->zones, why) ||
	    open_channel(d, conf, why)) {
		if (!why[0])
			errmsg(why, "DNSBL: no random key");
		dnsbl_close(d);
		return NULL;
	}
	return d;
}

void dnsbl_close(struct dnsbl *d)
{
	if (!d)
		return;
	d->closing = true; /* answers that ares_destroy cancels are not decisions */
	if (d->channel_ready) {
		ares_destroy(d->channel);
		ares_library_cleanup();
	}
	subloop_close(&d->loop);
	free(d->cache);
	free(d);
}
