# xdpban: one build for the XDP object, its skeleton, the CLI and the tests.
#   make            build build/xdpban
#   make check      build and run every test (needs root for BPF and netns tests)
#   make vmlinux    regenerate vmlinux/vmlinux.h from the running kernel's BTF
#   make install    install (PREFIX, DESTDIR, sbindir, sysconfdir, unitdir...); make uninstall
#   make deb        build the Debian package into build/deb/
#   V=1             show the full commands

OUTPUT   := build
CLANG    ?= clang
CC       ?= gcc
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wno-missing-field-initializers \
            -I$(OUTPUT) -Imaps -Iuser
DEPFLAGS  = -MMD -MP
LDLIBS   := $(shell pkg-config --libs libbpf jansson 2>/dev/null || echo -lbpf -lelf -lz -ljansson)
LDLIBS   += -lcsv # libcsv has no pkg-config file
LDLIBS   += -linih -lsqlite3 # config file (libinih-dev) and the ban store (libsqlite3-dev)
LDLIBS   += -lmicrohttpd # the Dovecot policy endpoint (libmicrohttpd-dev)
LDLIBS   += -lhiredis # the fleet's shared state in Redis (libhiredis-dev)
LDLIBS   += -lcares # DNSBL lookups (libc-ares-dev)
LDLIBS   += -lnettle # Dovecot's pwhash, for weak passwords (nettle-dev)
LDLIBS   += -lsystemd # the journal source (libsystemd-dev)
LDLIBS   += -pthread # the store's checkpoint thread
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Ivmlinux -Imaps -Ibpf

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# user/ is one folder per subsystem (README "Layout"); every object but main's
# goes into one static library that the binary, the tests, the benchmarks and
# the fuzzers link, so each takes only what it uses.
USER_SRCS  := $(filter-out user/cli/main.c,$(wildcard user/*/*.c))
USER_OBJS  := $(patsubst %.c,$(OUTPUT)/%.o,$(USER_SRCS))
USER_LIB   := $(OUTPUT)/libxdpban.a
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/*.c))
BPF_TESTS  := $(patsubst tests/bpf/%.c,$(OUTPUT)/tests/%,$(wildcard tests/bpf/*.c))

# The version is git's description of the tree (scripts/version.sh), or the
# VERSION file's in a tarball, unless XDPBAN_VERSION is given (debian/rules
# passes the package's, so the installed binary says what dpkg says); only
# main.o sees it, through a header that is rewritten when the version changes.
VERSION_H  := $(OUTPUT)/version.h
ifndef XDPBAN_VERSION
XDPBAN_VERSION := $(shell scripts/version.sh)
endif

.PHONY: all check check-layers demo bench bench-weak attack docs man install uninstall deb clean vmlinux format lint recall check-dovecot24 FORCE
.DELETE_ON_ERROR:
# Keep generated objects and skeletons that pattern rules make along the way.
.SECONDARY:

all: $(OUTPUT)/xdpban

$(OUTPUT)/xdpban.bpf.o: bpf/xdpban.bpf.c bpf/parsing.h maps/xdpban_maps.h vmlinux/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/xdpban.skel.h: $(OUTPUT)/xdpban.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name xdpban_bpf > $@

$(VERSION_H): FORCE | $(OUTPUT)
	$(Q)line='#define XDPBAN_VERSION "$(XDPBAN_VERSION)"'; \
	    [ "$$(cat $@ 2>/dev/null)" = "$$line" ] || echo "$$line" > $@

# The skeleton is generated before any object compiles (order-only); from then
# on the -MMD files say which objects include it, and which headers each uses.
$(OUTPUT)/user/%.o: user/%.c | $(OUTPUT)/xdpban.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUTPUT)/user/cli/main.o: $(VERSION_H)

$(USER_LIB): $(USER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(OUTPUT)/xdpban: $(OUTPUT)/user/cli/main.o $(USER_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# A test is linked from its own source and the library alone: the rest of
# $^ may be headers or, for test_fuzz_replay, the fuzz targets it #includes.
$(OUTPUT)/tests/%: tests/unit/%.c $(USER_LIB) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -MF $@.d -MT $@ -Itests/unit $< $(USER_LIB) $(LDLIBS) -lcmocka -o $@

$(OUTPUT)/tests/%: tests/bpf/%.c $(USER_LIB) $(OUTPUT)/xdpban.skel.h | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -MF $@.d -MT $@ -Itests/bpf -Itests/unit $< $(USER_LIB) $(LDLIBS) -lcmocka -o $@

# Benchmark programs: bench/NAME.bpf.c -> build/NAME.skel.h (they may include bpf/*.c).
$(OUTPUT)/%.bpf.o: bench/%.bpf.c bpf/xdpban.bpf.c bpf/parsing.h maps/xdpban_maps.h vmlinux/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .bpf.o,,$(notdir $<))_bpf > $@

BENCH_SKELS := $(OUTPUT)/xdp_drop.skel.h $(OUTPUT)/xdpban_random.skel.h $(OUTPUT)/flood_gen.skel.h
BENCH_PROGS := $(OUTPUT)/bench/prog_cost $(OUTPUT)/bench/flood $(OUTPUT)/bench/weak_cost \
	       $(ATTACK_PROGS)
# The attack tools: tests/e2e/test_attack_http.sh and scripts/attack.sh use them.
ATTACK_PROGS := $(OUTPUT)/bench/policy_probe $(OUTPUT)/bench/conn_attack

$(OUTPUT)/bench/%: bench/%.c bench/bench_util.c $(USER_LIB) $(BENCH_SKELS) | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -MF $@.d -MT $@ -Ibench $(filter %.c %.a,$^) $(LDLIBS) -lm -o $@

# Benchmarks are not tests: side by side in one run, printed as ratios, with
# the results written to bench/results/ (scripts/bench.sh; BENCH_ARGS=--quick
# for a short run).
bench: $(OUTPUT)/xdpban $(BENCH_PROGS)
	$(Q)scripts/bench.sh $(BENCH_ARGS)

# Dovecot's policy answer times under a local user's attacks (README "Under
# attack"): about 5 minutes, root, its own namespace.
attack: $(OUTPUT)/xdpban $(ATTACK_PROGS)
	$(Q)scripts/attack.sh

# The CPU cost of one weak-password judgement (README "Weak passwords"); no root needed.
bench-weak: $(OUTPUT)/bench/weak_cost
	$(Q)$< $(BENCH_WEAK_ARGS)

# Dovecot 2.4's policy config against a real Dovecot 2.4 (Debian 13's, in a
# chroot made with debootstrap on its first run): minutes, so not in check.
check-dovecot24: $(OUTPUT)/xdpban
	$(Q)scripts/install-deps.sh --trixie
	$(Q)bash tests/heavy/test_dovecot24_policy.sh

# Recall of the parsers on fail2ban's annotated sample logs (Debian's
# fail2ban package ships them): not a test, since it needs that package.
recall: $(OUTPUT)/xdpban
	$(Q)scripts/recall-fail2ban.sh

# Fuzzing (fuzz/README.md): libFuzzer targets for every parser of outside
# input, built with clang and ASan/UBSan into build/fuzz/ (the product's
# objects are gcc's, so the parsers are compiled again here). `make fuzz`
# replays the checked-in seeds and regressions, then fuzzes each target for
# FUZZ_SECONDS; FUZZ_TARGETS picks some.
FUZZ_SECONDS ?= 60
FUZZ_DIR     := $(OUTPUT)/fuzz
FUZZ_ALL     := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra \
                -Wno-missing-field-initializers -I$(OUTPUT) -Imaps -Iuser -Ifuzz
FUZZ_OBJS    := $(patsubst %.c,$(FUZZ_DIR)/%.o,$(USER_SRCS))

.PHONY: fuzz fuzz-build

$(FUZZ_DIR)/user/%.o: user/%.c | $(OUTPUT)/xdpban.skel.h
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_SAN) $(DEPFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/libxdpban.a: $(FUZZ_OBJS)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_DIR)/libxdpban.a
	$(call msg,LINK-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_SAN) $(DEPFLAGS) -MF $@.d -MT $@ -fsanitize=fuzzer $< $(FUZZ_DIR)/libxdpban.a \
	    $(LDLIBS) -o $@

fuzz-build:
	$(Q)scripts/install-deps.sh --fuzz
	$(Q)$(MAKE) --no-print-directory $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))

fuzz: fuzz-build
	$(Q)fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(OUTPUT) $(OUTPUT)/tests $(OUTPUT)/bench:
	$(Q)mkdir -p $@

# The README's first command: the whole product in namespaces it removes after.
demo:
	$(Q)scripts/demo.sh

check: check-layers $(OUTPUT)/xdpban $(UNIT_TESTS) $(BPF_TESTS) $(ATTACK_PROGS)
	$(Q)tests/run-all.sh

# Which subsystem folder may include which (the table in scripts/check-layers.sh).
check-layers:
	$(Q)scripts/check-layers.sh

docs: $(OUTPUT)/xdpban
	$(Q)scripts/gen-cli-doc.sh $<

# Man pages, made at build time from the same text as docs/cli.md (the
# binary's --help in docs/cli.md.in) and docs/config.md: scripts/gen-man.sh.
MAN_PAGES := $(OUTPUT)/man/xdpban.8 $(OUTPUT)/man/xdpban.conf.5

man: $(MAN_PAGES)

$(OUTPUT)/man/cli.md: $(OUTPUT)/xdpban docs/cli.md.in scripts/gen-cli-doc.sh
	$(Q)mkdir -p $(@D)
	$(Q)scripts/gen-cli-doc.sh $< $@

$(OUTPUT)/man/xdpban.8: $(OUTPUT)/man/cli.md scripts/gen-man.sh scripts/man-filter.lua $(VERSION_H)
	$(call msg,MAN,$@)
	$(Q)scripts/gen-man.sh $< xdpban 8 "drops brute-forcing clients of a mail server at the XDP hook" \
	    "$(XDPBAN_VERSION)" > $@

$(OUTPUT)/man/xdpban.conf.5: docs/config.md scripts/gen-man.sh scripts/man-filter.lua $(VERSION_H)
	$(call msg,MAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)scripts/gen-man.sh $< xdpban.conf 5 "configuration of the xdpban daemon" \
	    "$(XDPBAN_VERSION)" > $@

# make install / make uninstall, with the usual variables; debian/rules runs
# the same install. sysconfdir stays /etc whatever PREFIX is: the daemon
# reads /etc/xdpban/xdpban.conf by default (the unit gets the installed
# paths). The state directory is made at run time (the unit's
# StateDirectory, the package's postinst), never by make install.
PREFIX        ?= /usr/local
sbindir       ?= $(PREFIX)/sbin
datadir       ?= $(PREFIX)/share
mandir        ?= $(datadir)/man
docdir        ?= $(datadir)/doc/xdpban
sysconfdir    ?= /etc
unitdir       ?= $(PREFIX)/lib/systemd/system
completiondir ?= $(datadir)/bash-completion/completions
INSTALL       ?= install
CONF_FILE     := $(DESTDIR)$(sysconfdir)/xdpban/xdpban.conf

install: $(OUTPUT)/xdpban $(MAN_PAGES)
	$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(unitdir) $(DESTDIR)$(mandir)/man8 \
	    $(DESTDIR)$(mandir)/man5 $(DESTDIR)$(completiondir) $(DESTDIR)$(docdir)/examples \
	    $(DESTDIR)$(datadir)/xdpban $(DESTDIR)$(sysconfdir)/xdpban
	$(INSTALL) -m 0755 $(OUTPUT)/xdpban $(DESTDIR)$(sbindir)/xdpban
	sed -e 's|/usr/sbin/xdpban|$(sbindir)/xdpban|g' -e 's|/etc/xdpban/|$(sysconfdir)/xdpban/|g' \
	    packaging/xdpban.service > $(DESTDIR)$(unitdir)/xdpban.service
	chmod 0644 $(DESTDIR)$(unitdir)/xdpban.service
	$(INSTALL) -m 0644 $(OUTPUT)/man/xdpban.8 $(DESTDIR)$(mandir)/man8/xdpban.8
	$(INSTALL) -m 0644 $(OUTPUT)/man/xdpban.conf.5 $(DESTDIR)$(mandir)/man5/xdpban.conf.5
	$(INSTALL) -m 0644 packaging/xdpban.bash-completion $(DESTDIR)$(completiondir)/xdpban
	$(INSTALL) -m 0644 README.md docs/cli.md docs/config.md $(DESTDIR)$(docdir)/
	$(INSTALL) -m 0644 docs/dovecot*.conf $(DESTDIR)$(docdir)/examples/
	$(INSTALL) -m 0755 scripts/unpack-tor-geoipdb.sh $(DESTDIR)$(datadir)/xdpban/unpack-tor-geoipdb
	@# The commented example, which changes nothing; never over the operator's file.
	[ -e $(CONF_FILE) ] || $(INSTALL) -m 0644 docs/xdpban.conf.example $(CONF_FILE)

uninstall:
	rm -f $(DESTDIR)$(sbindir)/xdpban $(DESTDIR)$(unitdir)/xdpban.service \
	    $(DESTDIR)$(mandir)/man8/xdpban.8 $(DESTDIR)$(mandir)/man5/xdpban.conf.5 \
	    $(DESTDIR)$(completiondir)/xdpban
	rm -rf $(DESTDIR)$(docdir) $(DESTDIR)$(datadir)/xdpban
	@# The config goes only as installed; an edited one stays (as dpkg keeps it until purge).
	@if cmp -s docs/xdpban.conf.example $(CONF_FILE); then \
	    rm -f $(CONF_FILE) && rmdir --ignore-fail-on-non-empty $(DESTDIR)$(sysconfdir)/xdpban; \
	elif [ -e $(CONF_FILE) ]; then echo "uninstall: kept $(CONF_FILE) (edited)"; fi

# The Debian package, built from a copy of the tree in build/deb/ (the .deb
# lands there): scripts/build-deb.sh.
deb:
	$(Q)scripts/install-deps.sh --package
	$(Q)scripts/build-deb.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

format:
	clang-format -i bpf/*.c bpf/*.h maps/*.h user/*/*.c user/*/*.h tests/unit/*.c tests/bpf/*.c tests/bpf/*.h \
	    bench/*.c bench/*.h fuzz/*.c fuzz/*.h

lint:
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 \
	    --suppress=missingIncludeSystem --library=scripts/libbpf.cfg \
	    -Imaps -Iuser user tests/unit $(filter-out %.bpf.c,$(wildcard bench/*.c tests/bpf/*.c))
	shellcheck -x scripts/*.sh tests/run-all.sh tests/e2e/*.sh tests/e2e/lib/*.sh tests/fixtures/logs/*.sh \
	    tests/fixtures/logs/injection/*.sh fuzz/run.sh .ci/run packaging/xdpban.bash-completion

	shellcheck -x scripts/*.sh tests/run-all.sh tests/e2e/*.sh tests/e2e/lib/*.sh tests/heavy/*.sh tests/fixtures/logs/*.sh \
	    tests/fixtures/logs/injection/*.sh fuzz/run.sh .ci/run

clean:
	rm -rf $(OUTPUT)

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)
