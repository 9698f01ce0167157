// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include "peers/fleet.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include "lib/clock.h"
#include "lib/cidr.h"
#include "bans/bans.h"
#include "lib/duration.h"
#include "lib/subloop.h"

#define BACKOFF_MIN_MS	   100
#define BACKOFF_MAX_MS	   10000
#define SYNC_DEADLINE_MS   5000	  /* connected but not synced by then: start over */
#define MAX_IN_FLIGHT	   100000 /* commands awaiting a reply; failures beyond are not sent */
#define MAX_PENDING_BLOCKS 4096	  /* blocks decided while Redis was away, pushed on return */
#define MAX_REMOTE_NOTES   1024	  /* remote changes told apart from the operator's, per tick */
#define KEY_LEN		   (CONF_POLICY_TEXT_LEN + 32)
#define NODE_LEN	   CONF_POLICY_TEXT_LEN
#define MS_PER_SEC	   1000LL

/*
 * One failure. KEYS: fail:ip:CIDR, bans, fail:acct:A, fail:acctip:A, blocks.
 * ARGV: member, cidr, ip_failures, ip_window_ms, ip_ban_ms, account ("" for
 * none), account_failures, account_window_ms, account_min_ips, block_ms,
 * node, channel. Returns {ban deadline or 0, cidr, block deadline or 0, account}.
 */
static const char fail_script[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local stamp = t[1] .. string.format('%06d', tonumber(t[2]))\n"
    "local ban, block = 0, 0\n"
    "local function live(zset, member)\n"
    "  local s = redis.call('ZSCORE', zset, member)\n"
    "  return s and tonumber(s) > now\n"
    "end\n"
    "local function window(key, member, ms)\n"
    "  redis.call('ZADD', key, now, member)\n"
    "  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (now - ms))\n"
    "  redis.call('PEXPIRE', key, ms)\n"
    "  return redis.call('ZCARD', key)\n"
    "end\n"
    "if tonumber(ARGV[3]) > 0 and not live(KEYS[2], ARGV[2]) then\n"
    "  if window(KEYS[1], ARGV[1], tonumber(ARGV[4])) >= tonumber(ARGV[3]) then\n"
    "    ban = now + tonumber(ARGV[5])\n"
    "    redis.call('ZADD', KEYS[2], ban, ARGV[2])\n"
    "    redis.call('DEL', KEYS[1])\n"
    "    redis.call('PUBLISH', ARGV[12], 'ban ' .. ban .. ' ' .. ARGV[11] .. ' ' .. stamp .. ' ' "
    ".. ARGV[2])\n"
    "  end\n"
    "end\n"
    "if ARGV[6] ~= '' and tonumber(ARGV[7]) > 0 and not live(KEYS[5], ARGV[6]) then\n"
    "  local ms = tonumber(ARGV[8])\n"
    "  local n = window(KEYS[3], ARGV[1], ms)\n"
    "  if window(KEYS[4], ARGV[2], ms) >= tonumber(ARGV[9]) and n >= tonumber(ARGV[7]) then\n"
    "    block = now + tonumber(ARGV[10])\n"
    "    redis.call('ZADD', KEYS[5], block, ARGV[6])\n"
    "    redis.call('DEL', KEYS[3], KEYS[4])\n"
    "    redis.call('PUBLISH', ARGV[12], 'block ' .. block .. ' ' .. ARGV[11] .. ' ' .. stamp .. "
    "' ' .. ARGV[6])\n"
    "  end\n"
    "end\n"
    "return {ban, ARGV[2], block, ARGV[6]}\n";

/*
 * A decision one node made alone. KEYS: the sorted set (bans or blocks).
 * ARGV: kind, deadline ms or "inf", member, node, channel, the node's
 * wall time of the decision (us). Recorded and
 * published when it ends more than 1 s later than what Redis has (the same
 * decision converted between clocks is not news).
 */
static const char publish_script[] =
    "local score = ARGV[2] == 'inf' and '+inf' or ARGV[2]\n"
    "local old = redis.call('ZSCORE', KEYS[1], ARGV[3])\n"
    "if old and (old == 'inf' or (ARGV[2] ~= 'inf' and\n"
    "            tonumber(old) + 1000 >= tonumber(ARGV[2]))) then\n"
    "  return 0\n"
    "end\n"
    "redis.call('ZADD', KEYS[1], score, ARGV[3])\n"
    "redis.call('PUBLISH', ARGV[5], ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. ARGV[4] .. ' ' .. ARGV[6] "
    ".. ' ' .. ARGV[3])\n"
    "return 1\n";

enum fleet_state {
	FLEET_DOWN,	  /* no connection; the timer brings the next attempt */
	FLEET_CONNECTING, /* connections made, not synced yet; the timer is the deadline */
	FLEET_SYNCED,
};

enum io_tag { IO_CMD, IO_SUB, IO_TIMER };

/* One hiredis connection in the fleet's epoll set. */
struct fleet_io {
	struct fleet *fleet;
	redisAsyncContext *ac; /* NULL once hiredis cleaned it up */
	enum io_tag tag;
	uint32_t events;
};

struct pending_block {
	char account[EVENT_USER_LEN];
	long long deadline_ms;
};

enum note_kind { NOTE_BANNED, NOTE_UNBANNED, NOTE_ALLOWED, NOTE_UNALLOWED };

struct remote_note {
	struct lpm_key key;
	enum note_kind kind;
};

struct fleet {
	struct conf_fleet conf;
	struct fleet_target target;
	struct fleet_hooks hooks;
	char node[NODE_LEN];
	char bans_key[KEY_LEN], blocks_key[KEY_LEN], allow_key[KEY_LEN], channel[KEY_LEN];
	struct subloop loop;   /* the two connections and the reconnection timer */
	struct fleet_io io[2]; /* IO_CMD: commands; IO_SUB: the subscription */
	enum fleet_state state;
	bool teardown;	  /* a connection failed inside a callback: close both after it */
	bool outage_said; /* the outage was logged (once) */
	bool ever_synced;
	bool subscribed;
	char sha_fail[48], sha_publish[48];
	unsigned int sync_pending; /* load replies still awaited */
	size_t synced_bans, synced_blocks;
	unsigned int backoff_ms;
	int64_t down_since_ms;
	unsigned long long seq, start_us; /* failure members: NODE:START_US:SEQ */
	unsigned long in_flight;
	struct pending_block pending[MAX_PENDING_BLOCKS];
	size_t pending_count;
	/* The maps at the last scan, to tell what the operator changed since. */
	struct ban_record *seen_bans;
	size_t seen_ban_count;
	struct allow_record *seen_allows;
	size_t seen_allow_count;
	bool have_seen;
	/* What other nodes changed here since the last scan: not the operator's doing. */
	struct remote_note notes[MAX_REMOTE_NOTES];
	size_t note_count;
	bool rebaseline; /* too many of them (a sync): the next scan only takes stock */
	struct fleet_counters counters;
};

static int64_t wall_now_ms(void)
{
	return clock_wall_us() / 1000;
}

/* A wall deadline (ms) as this host's CLOCK_MONOTONIC; 0 when it has passed. */
static uint64_t monotonic_deadline(long long deadline_ms)
{
	int64_t left_ms = deadline_ms - wall_now_ms();

	return left_ms > 0 ? clock_now_ns() + (uint64_t)left_ms * NSEC_PER_MS : 0;
}

/* A CLOCK_MONOTONIC deadline as wall ms. */
static long long wall_deadline(uint64_t deadline_ns)
{
	uint64_t now_ns = clock_now_ns();
	int64_t left_ms =
	    deadline_ns > now_ns ? (int64_t)((deadline_ns - now_ns) / NSEC_PER_MS) : 0;

	return wall_now_ms() + left_ms;
}

static void fold_account(const char *account, char out[EVENT_USER_LEN])
{
	size_t i = 0;

	for (; account[i] && i + 1 < EVENT_USER_LEN; i++)
		out[i] = (char)tolower((unsigned char)account[i]);
	out[i] = '\0';
}

/* ---- the epoll adapter for hiredis ---- */

static void io_update(struct fleet_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u32 = io->tag };
	int op = !io->events ? EPOLL_CTL_ADD : events ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;

	if (events == io->events)
		return;
	if (epoll_ctl(io->fleet->loop.epoll_fd, op, io->ac->c.fd, &ev) && errno != ENOENT)
		log_say(LOG_LEVEL_ERROR, "fleet: epoll: %s", strerror(errno));
	io->events = events;
}

/* hiredis asks for one direction at a time. */
static void io_want(void *data, uint32_t direction, bool wanted)
{
	struct fleet_io *io = data;

	io_update(io, wanted ? io->events | direction : io->events & ~direction);
}

static void io_add_read(void *data)
{
	io_want(data, EPOLLIN, true);
}

static void io_del_read(void *data)
{
	io_want(data, EPOLLIN, false);
}

static void io_add_write(void *data)
{
	io_want(data, EPOLLOUT, true);
}

static void io_del_write(void *data)
{
	io_want(data, EPOLLOUT, false);
}

static void io_cleanup(void *data)
{
	struct fleet_io *io = data;

	io_update(io, 0);
	io->ac = NULL;
}

static void io_attach(struct fleet *f, enum io_tag tag, redisAsyncContext *ac)
{
	struct fleet_io *io = &f->io[tag];

	*io = (struct fleet_io){ .fleet = f, .ac = ac, .tag = tag };
	ac->ev.data = io;
	ac->ev.addRead = io_add_read;
	ac->ev.delRead = io_del_read;
	ac->ev.addWrite = io_add_write;
	ac->ev.delWrite = io_del_write;
	ac->ev.cleanup = io_cleanup;
	ac->data = f;
}

/* ---- the connection's life ---- */

static void arm_timer(struct fleet *f, unsigned int ms)
{
	subloop_arm(&f->loop, (uint64_t)ms * NSEC_PER_MS);
}

static const char *redis_address(const struct fleet *f)
{
	return f->conf.redis;
}

/* Both connections closed; the next attempt after the backoff. Logged once per outage. */
static void connection_lost(struct fleet *f, const char *reason)
{
	for (int tag = IO_CMD; tag <= IO_SUB; tag++) {
		if (f->io[tag].ac)
			redisAsyncFree(f->io[tag].ac);
	}
	f->teardown = false;
	if (f->state == FLEET_SYNCED) {
		f->down_since_ms = wall_now_ms();
		f->counters.outages++;
	}
	if (!f->outage_said) {
		log_say(LOG_LEVEL_WARNING,
			"fleet: Redis at %s unavailable (%s); deciding locally, reconnecting",
			redis_address(f), reason);
		f->outage_said = true;
	} else {
		log_say(LOG_LEVEL_DEBUG, "fleet: Redis at %s: %s; next try in %u ms",
			redis_address(f), reason, f->backoff_ms);
	}
	f->state = FLEET_DOWN;
	f->counters.synced = false;
	f->subscribed = false;
	f->sha_fail[0] = f->sha_publish[0] = '\0';
	arm_timer(f, f->backoff_ms);
	f->backoff_ms = f->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : f->backoff_ms * 2;
}

/* Inside a hiredis callback: the contexts may not be freed here, only after it returns. */
static void fail_later(struct fleet *f)
{
	f->teardown = true;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct fleet *f = ac->data;

	if (status != REDIS_OK) {
		for (int tag = IO_CMD; tag <= IO_SUB; tag++) {
			if (f->io[tag].ac == ac)
				f->io[tag].ac = NULL; /* hiredis frees it after this callback */
		}
		fail_later(f);
	}
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct fleet *f = ac->data;

	(void)status;
	for (int tag = IO_CMD; tag <= IO_SUB; tag++) {
		if (f->io[tag].ac == ac)
			f->io[tag].ac = NULL;
	}
	fail_later(f);
}

/* An error reply on the command connection: logged; the connection starts over. */
static bool reply_failed(struct fleet *f, const redisReply *reply, const char *what)
{
	if (!reply)
		return true; /* the connection is going away: said elsewhere */
	if (reply->type != REDIS_REPLY_ERROR)
		return false;
	log_say(LOG_LEVEL_ERROR, "fleet: Redis refused %s: %s", what, reply->str);
	fail_later(f);
	return true;
}

static void on_auth(redisAsyncContext *ac, void *r, void *privdata)
{
	(void)privdata;
	reply_failed(ac->data, r, "AUTH");
}

static void start_sync(struct fleet *f);

static void on_script_loaded(redisAsyncContext *ac, void *r, void *privdata)
{
	struct fleet *f = ac->data;
	redisReply *reply = r;

	if (reply_failed(f, reply, "SCRIPT LOAD"))
		return;
	snprintf(privdata, sizeof(f->sha_fail), "%s",
		 reply->type == REDIS_REPLY_STRING ? reply->str : "");
	start_sync(f);
}

static redisAsyncContext *connect_one(struct fleet *f, enum io_tag tag)
{
	const char *path = conf_redis_unix_path(f->conf.redis);
	char host[CONF_POLICY_TEXT_LEN];
	unsigned int port = 0;
	redisAsyncContext *ac;

	if (path) {
		ac = redisAsyncConnectUnix(path);
	} else {
		conf_listen_split(f->conf.redis, host, &port);
		ac = redisAsyncConnect(host, (int)port);
	}
	if (!ac)
		return NULL;
	if (ac->err) {
		f->io[tag].ac = NULL;
		log_say(LOG_LEVEL_DEBUG, "fleet: connecting to %s: %s", f->conf.redis, ac->errstr);
		redisAsyncFree(ac);
		return NULL;
	}
	io_attach(f, tag, ac);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (f->conf.redis_password[0] && f->conf.redis_user[0])
		redisAsyncCommand(ac, on_auth, NULL, "AUTH %s %s", f->conf.redis_user,
				  f->conf.redis_password);
	else if (f->conf.redis_password[0])
		redisAsyncCommand(ac, on_auth, NULL, "AUTH %s", f->conf.redis_password);
	return ac;
}

static void on_message(redisAsyncContext *ac, void *r, void *privdata);

static void connect_now(struct fleet *f)
{
	redisAsyncContext *cmd = connect_one(f, IO_CMD), *sub;

	if (!cmd) {
		connection_lost(f, "cannot connect");
		return;
	}
	sub = connect_one(f, IO_SUB);
	if (!sub) {
		connection_lost(f, "cannot connect");
		return;
	}
	f->state = FLEET_CONNECTING;
	f->sync_pending = 0;
	redisAsyncCommand(cmd, on_script_loaded, f->sha_fail, "SCRIPT LOAD %s", fail_script);
	redisAsyncCommand(cmd, on_script_loaded, f->sha_publish, "SCRIPT LOAD %s", publish_script);
	redisAsyncCommand(sub, on_message, NULL, "SUBSCRIBE %s", f->channel);
	arm_timer(f, SYNC_DEADLINE_MS);
}

/* ---- applying decisions made elsewhere ---- */

static bool parse_deadline(const char *text, bool *permanent, long long *deadline_ms)
{
	char *end;

	*permanent = strcmp(text, "inf") == 0 || strcmp(text, "+inf") == 0;
	if (*permanent)
		return true;
	errno = 0;
	*deadline_ms = strtoll(text, &end, 10);
	return !errno && end != text && (*end == '\0' || *end == '.');
}

/* Fills *request for cidr until deadline; false (said why at debug) when it does not apply. */
static bool ban_request_for(struct fleet *f, const char *cidr, const char *deadline,
			    struct ban_request *request)
{
	char why[ERRMSG_LEN];
	long long deadline_ms = 0;

	memset(request, 0, sizeof(*request));
	if (!parse_deadline(deadline, &request->permanent, &deadline_ms) ||
	    cidr_parse(cidr, &request->key, why)) {
		log_say(LOG_LEVEL_WARNING, "fleet: ignoring ban '%s' until '%s' from Redis", cidr,
			deadline);
		return false;
	}
	if (!request->permanent) {
		request->deadline_ns = monotonic_deadline(deadline_ms);
		if (!request->deadline_ns)
			return false; /* ended meanwhile */
	}
	if (!f->hooks.may_ban(f->hooks.ctx, &request->key)) {
		log_say(LOG_LEVEL_INFO, "fleet: not banning %s here: allowlisted", cidr);
		return false;
	}
	return true;
}

bool fleet_ban_is_news(const struct ban_entry *old, const struct ban_request *request,
		       uint64_t now_ns)
{
	uint64_t was, will;

	if (!old || (!ban_is_permanent(old) && old->expires_ns <= now_ns))
		return true;
	if (ban_is_permanent(old) || request->permanent)
		return ban_is_permanent(old) != request->permanent;
	was = old->expires_ns;
	will =
	    request->deadline_ns ? request->deadline_ns : now_ns + request->seconds * NSEC_PER_SEC;
	return (was > will ? was - will : will - was) > FLEET_SAME_DEADLINE_NS;
}

/*
 * Sorts requests with one look at the maps each (hold the writer lock):
 * into kept, those that cut short no ban in force here (ban_outlasts); of
 * those, into news (when it could be allocated), those that change what the
 * maps enforce, for the banned hook, so that a ban delivered again is not
 * recorded again. kept has room for n, and so has news unless it is NULL.
 */
static void sort_requests(const struct fleet *f, const struct ban_request *requests, size_t n,
			  const char *node, uint64_t now_ns, struct ban_request *kept,
			  size_t *kept_count, struct fleet_ban *news, size_t *news_count)
{
	struct ban_entry entry;

	*kept_count = *news_count = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ban_request *r = &requests[i];
		const struct ban_entry *old =
		    bans_lookup(f->target.maps, &r->key, &entry) ? NULL : &entry;
		struct fleet_ban *ban;

		if (old && ban_outlasts(old, r, now_ns))
			continue;
		kept[(*kept_count)++] = *r;
		if (!news || !fleet_ban_is_news(old, r, now_ns))
			continue;
		ban = &news[(*news_count)++];
		ban->key = r->key;
		ban->permanent = r->permanent;
		ban->deadline_ms = r->permanent ? 0 : wall_deadline(r->deadline_ns);
		ban->node = node;
	}
}

/*
 * Into the maps, unless a ban in force here ends later; the rules told
 * (failures during the ban are ignored), and what changed here handed to
 * the banned hook as decided by node (NULL: unknown). Returns how many went
 * into the maps, or a negative errno.
 */
static int apply_bans(struct fleet *f, const struct ban_request *requests, size_t n,
		      const char *node)
{
	uint64_t now_ns = clock_now_ns();
	struct ban_request *kept;
	struct fleet_ban *news;
	char why[ERRMSG_LEN];
	size_t kept_count = 0, news_count = 0;
	int lock, err = 0;

	if (!n)
		return 0;
	kept = calloc(n, sizeof(*kept));
	news = calloc(n, sizeof(*news)); /* without it the bans still apply, unrecorded */
	if (kept) {
		lock = pins_lock(f->target.pin_dir, why);
	} else {
		lock = -ENOMEM;
		errmsg(why, "out of memory");
	}
	if (lock < 0) {
		log_say(LOG_LEVEL_ERROR, "fleet: cannot ban: %s", why);
		free(kept);
		free(news);
		return lock;
	}
	sort_requests(f, requests, n, node, now_ns, kept, &kept_count, news, &news_count);
	if (kept_count)
		err = bans_add(f->target.maps, kept, kept_count, BAN_ORIGIN_IP_RULE, why);
	close(lock);
	if (err) {
		log_say(LOG_LEVEL_ERROR, "fleet: cannot ban %zu from Redis: %s", n, why);
	} else {
		for (size_t i = 0; i < kept_count; i++)
			rules_restore_ban(*f->target.rules, &kept[i].key,
					  kept[i].permanent ? 0 : kept[i].deadline_ns, 1, now_ns);
		if (!news && kept_count)
			log_say(LOG_LEVEL_WARNING, "fleet: out of memory: %zu bans not recorded",
				kept_count);
		else if (news_count)
			f->hooks.banned(f->hooks.ctx, news, news_count);
	}
	free(kept);
	free(news);
	return err ? err : (int)kept_count;
}

static void say_outlasted(const char *cidr, const char *node)
{
	log_say(LOG_LEVEL_INFO,
		"fleet: not banning %s as node %s decided: a ban of it in force here "
		"ends later",
		cidr, node);
}

static void apply_block(struct fleet *f, const char *account, long long deadline_ms)
{
	uint64_t deadline_ns = monotonic_deadline(deadline_ms);

	if (deadline_ns)
		rules_restore_block(*f->target.rules, account, deadline_ns, clock_now_ns());
}

static void say_decision(const char *kind, const char *what, long long deadline_ms,
			 const char *node, long long stamp_us)
{
	char length[DURATION_TEXT_LEN];
	long long left_ms = deadline_ms - wall_now_ms();

	duration_format(left_ms > 0 ? (uint64_t)(left_ms + 999) / 1000 : 0, length);
	log_say(LOG_LEVEL_INFO, "fleet: %s %s for %s from node %s (%.3f ms after the decision)",
		kind, what, length, node, (double)(clock_wall_us() - stamp_us) / 1000.0);
}

/* A change another node made, so that the next scan does not publish it as this node's. */
static void note_remote(struct fleet *f, const struct lpm_key *key, enum note_kind kind)
{
	if (f->note_count < MAX_REMOTE_NOTES)
		f->notes[f->note_count++] = (struct remote_note){ *key, kind };
	else
		f->rebaseline = true;
}

static bool noted_remote(const struct fleet *f, const struct lpm_key *key, enum note_kind kind)
{
	for (size_t i = 0; i < f->note_count; i++) {
		if (f->notes[i].kind == kind && cidr_compare(&f->notes[i].key, key) == 0)
			return true;
	}
	return false;
}

/* An operator's unban or allowlist change on another node, made here too. */
static void apply_change(struct fleet *f, const char *kind, const char *cidr, const char *node,
			 long long stamp_us)
{
	char why[ERRMSG_LEN];
	struct lpm_key key;
	int lock, err;

	if (cidr_parse(cidr, &key, why)) {
		log_say(LOG_LEVEL_WARNING, "fleet: ignoring %s of '%s': %s", kind, cidr, why);
		return;
	}
	lock = pins_lock(f->target.pin_dir, why);
	if (lock < 0) {
		log_say(LOG_LEVEL_ERROR, "fleet: cannot %s %s: %s", kind, cidr, why);
		return;
	}
	if (strcmp(kind, "unban") == 0)
		err = bans_remove(f->target.maps, &key, 1, why);
	else if (strcmp(kind, "allow") == 0)
		err = bans_allow_add(f->target.maps, &key, 1, why);
	else
		err = bans_allow_remove(f->target.maps, &key, 1, why);
	close(lock);
	note_remote(f, &key,
		    strcmp(kind, "unban") == 0	 ? NOTE_UNBANNED
		    : strcmp(kind, "allow") == 0 ? NOTE_ALLOWED
						 : NOTE_UNALLOWED);
	if (err == -ENOENT)
		return; /* nothing of it here */
	if (err) {
		log_say(LOG_LEVEL_ERROR, "fleet: cannot %s %s: %s", kind, cidr, why);
		return;
	}
	if (strcmp(kind, "unban") == 0) {
		rules_unban(*f->target.rules, &key, clock_now_ns());
		f->hooks.unbanned(f->hooks.ctx, &key);
	} else if (strcmp(kind, "allow") == 0) {
		f->hooks.allowed(f->hooks.ctx, &key, 1, node);
	} else {
		f->hooks.unallowed(f->hooks.ctx, &key);
	}
	f->counters.remote_changes++;
	log_say(LOG_LEVEL_INFO, "fleet: %s %s from node %s (%.3f ms after it was made)", kind, cidr,
		node, (double)(clock_wall_us() - stamp_us) / 1000.0);
}

/* "ban DEADLINE NODE STAMP_US CIDR" or "block DEADLINE NODE STAMP_US ACCOUNT". */
static void apply_message(struct fleet *f, const char *text)
{
	char kind[8], deadline[32], node[NODE_LEN];
	long long stamp_us, deadline_ms = 0;
	struct ban_request request;
	bool permanent;
	int used = 0, applied;

	if (sscanf(text, "%7s %31s %255s %lld %n", kind, deadline, node, &stamp_us, &used) != 4 ||
	    !used || !text[used]) {
		log_say(LOG_LEVEL_WARNING, "fleet: ignoring message '%.80s'", text);
		return;
	}
	if (strcmp(node, f->node) == 0)
		return; /* ours: applied when decided */
	if (strcmp(kind, "ban") == 0) {
		if (!ban_request_for(f, text + used, deadline, &request))
			return;
		applied = apply_bans(f, &request, 1, node);
		if (applied == 0)
			say_outlasted(text + used, node);
		if (applied <= 0)
			return;
		f->counters.remote_bans++;
		note_remote(f, &request.key, NOTE_BANNED);
		parse_deadline(deadline, &permanent, &deadline_ms);
		say_decision("ban", text + used, permanent ? 0 : deadline_ms, node, stamp_us);
	} else if (strcmp(kind, "unban") == 0 || strcmp(kind, "allow") == 0 ||
		   strcmp(kind, "unallow") == 0) {
		apply_change(f, kind, text + used, node, stamp_us);
	} else if (strcmp(kind, "block") == 0 &&
		   parse_deadline(deadline, &permanent, &deadline_ms) && !permanent) {
		apply_block(f, text + used, deadline_ms);
		f->counters.remote_blocks++;
		say_decision("block account", text + used, deadline_ms, node, stamp_us);
	}
}

static void on_message(redisAsyncContext *ac, void *r, void *privdata)
{
	struct fleet *f = ac->data;
	redisReply *reply = r;

	(void)privdata;
	if (!reply)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		reply_failed(f, reply, "SUBSCRIBE");
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(reply->element[0]->str, "subscribe") == 0) {
		f->subscribed = true;
		start_sync(f);
	} else if (strcmp(reply->element[0]->str, "message") == 0 &&
		   reply->element[2]->type == REDIS_REPLY_STRING) {
		apply_message(f, reply->element[2]->str);
	}
}

/* ---- the sync after every (re)connection ---- */

static bool may_send(struct fleet *f)
{
	if (f->in_flight < MAX_IN_FLIGHT && f->io[IO_CMD].ac)
		return true;
	f->counters.dropped++;
	return false;
}

static void on_counted(redisAsyncContext *ac, void *r, void *privdata);
static void on_published(redisAsyncContext *ac, void *r, void *privdata);

static void publish(struct fleet *f, const char *kind, const char *set_key, const char *deadline,
		    const char *member)
{
	if (!may_send(f))
		return;
	f->in_flight++;
	f->counters.published++;
	redisAsyncCommand(f->io[IO_CMD].ac, on_published, NULL,
			  "EVALSHA %s 1 %s %s %s %s %s %s %lld", f->sha_publish, set_key, kind,
			  deadline, member, f->node, f->channel, (long long)clock_wall_us());
}

static void publish_ban(struct fleet *f, const struct lpm_key *key, bool permanent,
			uint64_t deadline_ns)
{
	char cidr[CIDR_TEXT_LEN], deadline[32];

	cidr_format(key, cidr);
	if (permanent)
		snprintf(deadline, sizeof(deadline), "inf");
	else
		snprintf(deadline, sizeof(deadline), "%lld", wall_deadline(deadline_ns));
	publish(f, "ban", f->bans_key, deadline, cidr);
}

static void publish_block(struct fleet *f, const char *account, long long deadline_ms)
{
	char deadline[32], folded[EVENT_USER_LEN];

	fold_account(account, folded);
	snprintf(deadline, sizeof(deadline), "%lld", deadline_ms);
	publish(f, "block", f->blocks_key, deadline, folded);
}

/* This node's live rule bans (Redis may have lost them, or never seen them). */
static void push_local_bans(struct fleet *f)
{
	uint64_t now_ns = clock_now_ns();
	struct ban_record *records = NULL;
	char why[ERRMSG_LEN];
	size_t count = 0;

	if (bans_list(f->target.maps, &records, &count, why)) {
		log_say(LOG_LEVEL_WARNING, "fleet: cannot read the local bans: %s", why);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		const struct ban_entry *e = &records[i].entry;

		if ((e->origin == BAN_ORIGIN_IP_RULE || e->origin == BAN_ORIGIN_RESTORED) &&
		    !ban_is_permanent(e) && e->expires_ns > now_ns)
			publish_ban(f, &records[i].key, false, e->expires_ns);
	}
	free(records);
}

static void push_pending_blocks(struct fleet *f)
{
	for (size_t i = 0; i < f->pending_count; i++) {
		if (f->pending[i].deadline_ms > wall_now_ms())
			publish_block(f, f->pending[i].account, f->pending[i].deadline_ms);
	}
	f->pending_count = 0;
}

static void synced(struct fleet *f)
{
	f->state = FLEET_SYNCED;
	f->counters.synced = true;
	f->backoff_ms = BACKOFF_MIN_MS;
	arm_timer(f, 0);
	if (f->outage_said && f->ever_synced)
		log_say(
		    LOG_LEVEL_WARNING,
		    "fleet: Redis at %s is back after %lld s; synced: %zu live bans, %zu blocks",
		    redis_address(f), (long long)(wall_now_ms() - f->down_since_ms) / 1000,
		    f->synced_bans, f->synced_blocks);
	else
		log_say(LOG_LEVEL_INFO,
			"fleet: synced with Redis at %s as node %s: %zu live bans, %zu "
			"blocks",
			redis_address(f), f->node, f->synced_bans, f->synced_blocks);
	f->outage_said = false;
	f->ever_synced = true;
}

/* A sync load's answer: the array, or NULL when Redis refused it (said) or it is gone. */
static const redisReply *loaded_array(struct fleet *f, const redisReply *reply, const char *what)
{
	return reply_failed(f, reply, what) || reply->type != REDIS_REPLY_ARRAY ? NULL : reply;
}

/* One of the sync's three loads is in: the last one ends the sync. */
static void load_done(struct fleet *f)
{
	if (--f->sync_pending == 0)
		synced(f);
}

static void on_loaded_bans(redisAsyncContext *ac, void *r, void *privdata)
{
	struct fleet *f = ac->data;
	const redisReply *reply = loaded_array(f, r, "ZRANGEBYSCORE");
	struct ban_request *requests;
	size_t n = 0;

	(void)privdata;
	if (!reply)
		return;
	requests = calloc(reply->elements / 2 + 1, sizeof(*requests));
	for (size_t i = 0; requests && i + 1 < reply->elements; i += 2) {
		if (ban_request_for(f, reply->element[i]->str, reply->element[i + 1]->str,
				    &requests[n]))
			n++;
	}
	if (!requests || apply_bans(f, requests, n, NULL) >= 0)
		f->synced_bans = n;
	free(requests);
	load_done(f);
}

static void on_loaded_allows(redisAsyncContext *ac, void *r, void *privdata)
{
	struct fleet *f = ac->data;
	const redisReply *reply = loaded_array(f, r, "SMEMBERS");
	struct lpm_key *keys;
	char why[ERRMSG_LEN];
	size_t n = 0;
	int lock;

	(void)privdata;
	if (!reply)
		return;
	keys = calloc(reply->elements + 1, sizeof(*keys));
	for (size_t i = 0; keys && i < reply->elements; i++) {
		if (!cidr_parse(reply->element[i]->str, &keys[n], why))
			n++;
	}
	lock = n ? pins_lock(f->target.pin_dir, why) : -1;
	if (lock >= 0 && bans_allow_add(f->target.maps, keys, n, why))
		log_say(LOG_LEVEL_ERROR, "fleet: cannot allow the fleet's %zu prefixes: %s", n,
			why);
	else if (lock >= 0)
		f->hooks.allowed(f->hooks.ctx, keys, n, NULL);
	if (lock >= 0)
		close(lock);
	for (size_t i = 0; i < n; i++)
		note_remote(f, &keys[i], NOTE_ALLOWED);
	free(keys);
	load_done(f);
}

static void on_loaded_blocks(redisAsyncContext *ac, void *r, void *privdata)
{
	struct fleet *f = ac->data;
	const redisReply *reply = loaded_array(f, r, "ZRANGEBYSCORE");
	bool permanent;
	long long deadline_ms;

	(void)privdata;
	if (!reply)
		return;
	f->synced_blocks = 0;
	for (size_t i = 0; i + 1 < reply->elements; i += 2) {
		if (parse_deadline(reply->element[i + 1]->str, &permanent, &deadline_ms) &&
		    !permanent) {
			apply_block(f, reply->element[i]->str, deadline_ms);
			f->synced_blocks++;
		}
	}
	load_done(f);
}

/*
 * Once subscribed (nothing published from now on is missed) and the
 * scripts are loaded: ours out, then everyone's in. Replies on one
 * connection come in order, so the loads see what was pushed.
 */
static void start_sync(struct fleet *f)
{
	char now[32];

	if (f->state != FLEET_CONNECTING || !f->subscribed || !f->sha_fail[0] ||
	    !f->sha_publish[0] || f->sync_pending)
		return;
	push_local_bans(f);
	push_pending_blocks(f);
	snprintf(now, sizeof(now), "(%lld", (long long)wall_now_ms());
	f->sync_pending = 3;
	redisAsyncCommand(f->io[IO_CMD].ac, on_loaded_bans, NULL,
			  "ZRANGEBYSCORE %s %s +inf WITHSCORES", f->bans_key, now);
	redisAsyncCommand(f->io[IO_CMD].ac, on_loaded_blocks, NULL,
			  "ZRANGEBYSCORE %s %s +inf WITHSCORES", f->blocks_key, now);
	redisAsyncCommand(f->io[IO_CMD].ac, on_loaded_allows, NULL, "SMEMBERS %s", f->allow_key);
}

/* ---- failures counted fleet-wide ---- */

static void on_published(redisAsyncContext *ac, void *r, void *privdata)
{
	struct fleet *f = ac->data;

	(void)privdata;
	f->in_flight--;
	reply_failed(f, r, "a decision");
}

/* {ban deadline, cidr, block deadline, account}: what the fleet's counts decided. */
static void on_counted(redisAsyncContext *ac, void *r, void *privdata)
{
	struct fleet *f = ac->data;
	const struct rules_config *cfg = f->target.rules_cfg;
	redisReply *reply = r;
	struct ban_request request;
	char deadline[32];
	int applied;

	(void)privdata;
	f->in_flight--;
	if (reply_failed(f, reply, "a failure") || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 4)
		return;
	if (reply->element[0]->type == REDIS_REPLY_INTEGER && reply->element[0]->integer > 0) {
		snprintf(deadline, sizeof(deadline), "%lld", reply->element[0]->integer);
		if (!ban_request_for(f, reply->element[1]->str, deadline, &request))
			applied = -EINVAL;
		else
			applied = apply_bans(f, &request, 1, f->node);
		if (applied == 0)
			say_outlasted(reply->element[1]->str, f->node);
		if (applied > 0) {
			f->counters.fleet_bans++;
			log_say(LOG_LEVEL_INFO,
				"fleet: ban %s for %u s: %u failures across the fleet in %u s",
				reply->element[1]->str, (unsigned int)cfg->ip_bantime,
				cfg->ip_failures, (unsigned int)cfg->ip_window);
		}
	}
	if (reply->element[2]->type == REDIS_REPLY_INTEGER && reply->element[2]->integer > 0) {
		apply_block(f, reply->element[3]->str, reply->element[2]->integer);
		f->counters.fleet_blocks++;
		log_say(LOG_LEVEL_INFO,
			"fleet: block account %s for %u s: %u failures across the fleet in %u s",
			reply->element[3]->str, (unsigned int)cfg->account_blocktime,
			cfg->account_failures, (unsigned int)cfg->account_window);
	}
}

static void count_failure(struct fleet *f, const struct auth_event *event,
			  const struct rules_decision *decision)
{
	const struct rules_config *cfg = f->target.rules_cfg;
	char cidr[CIDR_TEXT_LEN], account[EVENT_USER_LEN], member[NODE_LEN + 48];
	char ip_key[KEY_LEN + CIDR_TEXT_LEN], acct_key[KEY_LEN + EVENT_USER_LEN];
	char acctip_key[KEY_LEN + EVENT_USER_LEN];

	if (!may_send(f))
		return;
	cidr_format(&decision->ip_key, cidr);
	fold_account(event->user, account);
	snprintf(member, sizeof(member), "%s:%llu:%llu", f->node, f->start_us, ++f->seq);
	snprintf(ip_key, sizeof(ip_key), "%s:fail:ip:%s", f->conf.key_prefix, cidr);
	snprintf(acct_key, sizeof(acct_key), "%s:fail:acct:%s", f->conf.key_prefix, account);
	snprintf(acctip_key, sizeof(acctip_key), "%s:fail:acctip:%s", f->conf.key_prefix, account);
	f->in_flight++;
	f->counters.reported++;
	redisAsyncCommand(f->io[IO_CMD].ac, on_counted, NULL,
			  "EVALSHA %s 5 %s %s %s %s %s %s %s %u %llu %llu %s %u %llu %u %llu %s %s",
			  f->sha_fail, ip_key, f->bans_key, acct_key, acctip_key, f->blocks_key,
			  member, cidr, cfg->ip_failures, cfg->ip_window * 1000ULL,
			  cfg->ip_bantime * 1000ULL, account, cfg->account_failures,
			  cfg->account_window * 1000ULL, cfg->account_min_ips,
			  cfg->account_blocktime * 1000ULL, f->node, f->channel);
}

void fleet_report(struct fleet *f, const struct auth_event *event,
		  const struct rules_decision *decision)
{
	long long block_deadline = 0;

	if (event->outcome != AUTH_FAIL)
		return;
	if (decision->block_started)
		block_deadline = wall_deadline(decision->block_deadline_ns);
	if (f->state != FLEET_SYNCED) {
		if (block_deadline && f->pending_count < MAX_PENDING_BLOCKS) {
			fold_account(decision->account, f->pending[f->pending_count].account);
			f->pending[f->pending_count++].deadline_ms = block_deadline;
		}
		f->counters.dropped++;
		return;
	}
	if (decision->ban)
		publish_ban(f, &decision->ip_key, false, decision->ban_deadline_ns);
	if (block_deadline)
		publish_block(f, decision->account, block_deadline);
	count_failure(f, event, decision);
}

/* ---- what the operator changes by hand: unbans, bans, the allowlist ---- */

/* "unban", "allow" or "unallow" of key: into Redis' state, then to every node. */
static void publish_change(struct fleet *f, const char *kind, const struct lpm_key *key)
{
	char cidr[CIDR_TEXT_LEN], message[NODE_LEN + CIDR_TEXT_LEN + 64];

	if (!may_send(f))
		return;
	cidr_format(key, cidr);
	snprintf(message, sizeof(message), "%s 0 %s %lld %s", kind, f->node,
		 (long long)clock_wall_us(), cidr);
	f->in_flight += 2;
	f->counters.published++;
	if (strcmp(kind, "unban") == 0)
		redisAsyncCommand(f->io[IO_CMD].ac, on_published, NULL, "ZREM %s %s", f->bans_key,
				  cidr);
	else
		redisAsyncCommand(f->io[IO_CMD].ac, on_published, NULL, "%s %s %s",
				  strcmp(kind, "allow") == 0 ? "SADD" : "SREM", f->allow_key, cidr);
	redisAsyncCommand(f->io[IO_CMD].ac, on_published, NULL, "PUBLISH %s %s", f->channel,
			  message);
}

static int compare_bans(const void *a, const void *b)
{
	return cidr_compare(&((const struct ban_record *)a)->key,
			    &((const struct ban_record *)b)->key);
}

static int compare_allows(const void *a, const void *b)
{
	return cidr_compare(&((const struct allow_record *)a)->key,
			    &((const struct allow_record *)b)->key);
}

/*
 * Two sorted lists walked together (NULL: that list is done): -1 only in
 * the old one, 1 only in the new one, 0 in both.
 */
static int merge_step(const struct lpm_key *old, const struct lpm_key *new)
{
	int order;

	if (!old)
		return 1;
	if (!new)
		return -1;
	order = cidr_compare(old, new);
	return (order > 0) - (order < 0);
}

/* Bans gone before their end (xdpban unban) and new bans by hand (xdpban ban). */
static void publish_ban_changes(struct fleet *f, const struct ban_record *bans, size_t count)
{
	const struct ban_record *seen = f->seen_bans;
	uint64_t now_ns = clock_now_ns();
	size_t i = 0, j = 0;

	while (i < f->seen_ban_count || j < count) {
		int step = merge_step(i < f->seen_ban_count ? &seen[i].key : NULL,
				      j < count ? &bans[j].key : NULL);

		if (step < 0 && !noted_remote(f, &seen[i].key, NOTE_UNBANNED) &&
		    (ban_is_permanent(&seen[i].entry) ||
		     seen[i].entry.expires_ns > now_ns + NSEC_PER_SEC))
			publish_change(f, "unban", &seen[i].key);
		if (step > 0 && bans[j].entry.origin == BAN_ORIGIN_MANUAL)
			publish_ban(f, &bans[j].key, ban_is_permanent(&bans[j].entry),
				    bans[j].entry.expires_ns);
		i += step <= 0;
		j += step >= 0;
	}
}

static void publish_allow_changes(struct fleet *f, const struct allow_record *allows, size_t count)
{
	const struct allow_record *seen = f->seen_allows;
	size_t i = 0, j = 0;

	while (i < f->seen_allow_count || j < count) {
		int step = merge_step(i < f->seen_allow_count ? &seen[i].key : NULL,
				      j < count ? &allows[j].key : NULL);

		if (step < 0 && !noted_remote(f, &seen[i].key, NOTE_UNALLOWED))
			publish_change(f, "unallow", &seen[i].key);
		if (step > 0 && !noted_remote(f, &allows[j].key, NOTE_ALLOWED))
			publish_change(f, "allow", &allows[j].key);
		i += step <= 0;
		j += step >= 0;
	}
}

static bool listed_ban(const struct lpm_key *key, const struct ban_record *bans, size_t count)
{
	struct ban_record wanted = { .key = *key };

	return count && bsearch(&wanted, bans, count, sizeof(*bans), compare_bans);
}

static bool listed_allow(const struct lpm_key *key, const struct allow_record *allows, size_t count)
{
	struct allow_record wanted = { .key = *key };

	return count && bsearch(&wanted, allows, count, sizeof(*allows), compare_allows);
}

/*
 * What another node put here since the last scan and the operator took
 * away before this one: neither scan saw it, the notes did.
 */
static void publish_vanished(struct fleet *f, const struct ban_record *bans, size_t ban_count,
			     const struct allow_record *allows, size_t allow_count)
{
	for (size_t i = 0; i < f->note_count; i++) {
		const struct lpm_key *key = &f->notes[i].key;

		if (f->notes[i].kind == NOTE_BANNED && !noted_remote(f, key, NOTE_UNBANNED) &&
		    !listed_ban(key, bans, ban_count) &&
		    !listed_ban(key, f->seen_bans, f->seen_ban_count))
			publish_change(f, "unban", key);
		if (f->notes[i].kind == NOTE_ALLOWED && !noted_remote(f, key, NOTE_UNALLOWED) &&
		    !listed_allow(key, allows, allow_count) &&
		    !listed_allow(key, f->seen_allows, f->seen_allow_count))
			publish_change(f, "unallow", key);
	}
}

void fleet_tick(struct fleet *f)
{
	struct ban_record *bans = NULL;
	struct allow_record *allows = NULL;
	size_t ban_count = 0, allow_count = 0;
	char why[ERRMSG_LEN];

	if (f->have_seen && f->state != FLEET_SYNCED)
		return; /* the stock from before the outage stays, to compare with once back */
	if (bans_list(f->target.maps, &bans, &ban_count, why) ||
	    bans_allow_list(f->target.maps, &allows, &allow_count, why)) {
		log_say(LOG_LEVEL_WARNING, "fleet: cannot read the maps: %s", why);
		free(bans);
		return;
	}
	qsort(bans, ban_count, sizeof(*bans), compare_bans);
	qsort(allows, allow_count, sizeof(*allows), compare_allows);
	if (f->have_seen && !f->rebaseline) {
		publish_ban_changes(f, bans, ban_count);
		publish_allow_changes(f, allows, allow_count);
		publish_vanished(f, bans, ban_count, allows, allow_count);
	}
	free(f->seen_bans);
	free(f->seen_allows);
	f->seen_bans = bans;
	f->seen_ban_count = ban_count;
	f->seen_allows = allows;
	f->seen_allow_count = allow_count;
	f->have_seen = true;
	f->rebaseline = false;
	f->note_count = 0;
}

/* ---- the fleet's own events ---- */

static void on_timer(struct fleet *f)
{
	if (!subloop_timer_fired(&f->loop))
		return;
	if (f->state == FLEET_DOWN)
		connect_now(f);
	else if (f->state == FLEET_CONNECTING)
		connection_lost(f, "no answer in time");
}

/* The fleet's set is ready: its timer, or a Redis connection. */
static void on_ready(void *ctx, uint32_t set_events)
{
	struct fleet *f = ctx;
	struct epoll_event ready[8];
	int n = epoll_wait(f->loop.epoll_fd, ready, 8, 0);

	(void)set_events;
	for (int i = 0; i < n && !f->teardown; i++) {
		uint32_t tag = ready[i].data.u32, events = ready[i].events;
		struct fleet_io *io;

		if (tag == IO_TIMER) {
			on_timer(f);
			continue;
		}
		io = &f->io[tag];
		if (io->ac && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
			redisAsyncHandleRead(io->ac);
		if (io->ac && !f->teardown && (events & EPOLLOUT))
			redisAsyncHandleWrite(io->ac);
	}
	if (f->teardown)
		connection_lost(f, "connection lost");
}

bool fleet_wait_synced(struct fleet *f, unsigned int timeout_ms)
{
	uint64_t until = clock_now_ns() + (uint64_t)timeout_ms * NSEC_PER_MS;

	while (f->state != FLEET_SYNCED) {
		uint64_t now = clock_now_ns();
		struct epoll_event ignored;

		if (now >= until)
			return false;
		if (epoll_wait(f->loop.epoll_fd, &ignored, 1,
			       (int)((until - now) / NSEC_PER_MS) + 1) > 0)
			on_ready(f, EPOLLIN);
	}
	return true;
}

void fleet_get_counters(const struct fleet *f, struct fleet_counters *counters)
{
	*counters = f->counters;
}

/* ---- open and close ---- */

static void name_node(struct fleet *f)
{
	char host[NODE_LEN - 16];

	if (f->conf.node[0]) {
		snprintf(f->node, sizeof(f->node), "%s", f->conf.node);
		return;
	}
	if (gethostname(host, sizeof(host)))
		snprintf(host, sizeof(host), "xdpban");
	host[sizeof(host) - 1] = '\0';
	snprintf(f->node, sizeof(f->node), "%s-%d", host, (int)getpid());
}

struct fleet *fleet_open(const struct conf_fleet *conf, struct loop *loop,
			 const struct fleet_target *target, const struct fleet_hooks *hooks,
			 char why[ERRMSG_LEN])
{
	struct fleet *f = calloc(1, sizeof(*f));

	if (!f) {
		errmsg(why, "out of memory");
		return NULL;
	}
	f->conf = *conf;
	f->target = *target;
	f->hooks = *hooks;
	f->backoff_ms = BACKOFF_MIN_MS;
	f->start_us = (unsigned long long)clock_wall_us();
	name_node(f);
	snprintf(f->bans_key, sizeof(f->bans_key), "%s:bans", conf->key_prefix);
	snprintf(f->blocks_key, sizeof(f->blocks_key), "%s:blocks", conf->key_prefix);
	snprintf(f->allow_key, sizeof(f->allow_key), "%s:allow", conf->key_prefix);
	snprintf(f->channel, sizeof(f->channel), "%s:events", conf->key_prefix);
	if (subloop_open(&f->loop, loop, IO_TIMER, on_ready, f, "fleet", why)) {
		fleet_close(f);
		return NULL;
	}
	connect_now(f);
	return f;
}

void fleet_close(struct fleet *f)
{
	if (!f)
		return;
	for (int tag = IO_CMD; tag <= IO_SUB; tag++) {
		if (f->io[tag].ac)
			redisAsyncFree(f->io[tag].ac);
	}
	subloop_close(&f->loop);
	free(f->seen_bans);
	free(f->seen_allows);
	free(f);
}
