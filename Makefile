# concurrency-bench: server concurrency models, one protocol, one load generator.
# `make help` lists the targets.

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith
ifeq ($(WERROR),1)
WARN     += -Werror
endif
CPPFLAGS += -D_GNU_SOURCE -Ilib -MMD -MP
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS)
LDLIBS   += -ljson-c -lpthread -lm
LDFLAGS  += -Wl,-z,now -Wl,-z,relro

# SANITIZE=address,undefined or SANITIZE=thread builds instrumented copies beside the plain
# ones: objects in build/<name>/, binaries in bin/<name>/.
SANITIZE ?=
ifeq ($(SANITIZE),)
FLAVOR   := plain
BIN      := bin
else ifeq ($(SANITIZE),thread)
FLAVOR   := tsan
BIN      := bin/tsan
else
FLAVOR   := asan
BIN      := bin/asan
endif
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=$(SANITIZE)
endif
BUILD    := build/$(FLAVOR)

# The models come from the registry, servers/models (one line each, with what it is).
ALL_MODELS := $(shell bench/models names)
SERVERS  := $(ALL_MODELS:%=$(BIN)/%-srv)
LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tests/helpers.o $(BUILD)/client/hist.o \
            $(BUILD)/client/hdrlog.o $(BUILD)/bench/src/bstats.o $(BUILD)/bench/src/usl.o \
            $(BUILD)/bench/src/registry.o $(BUILD)/client/timerq.o
TESTS    := $(BIN)/unit-tests
LOADGEN  := $(BIN)/loadgen
PROBE_BIN := $(BIN)/probe
# bench/run's orchestrator (bench/src/), always the plain build: bench/run runs bin/bench-run.
BENCH_RUN := bin/bench-run
BENCH_OBJ := $(patsubst %.c,build/plain/%.o,$(filter-out bench/src/tune%.c,$(wildcard bench/src/*.c)))
# bench/tune's program: the tuning steps over bench/run, with the parts of it that it uses.
BENCH_TUNE := bin/bench-tune
TUNE_OBJ := $(patsubst %,build/plain/bench/src/%.o,tune tune_steps tune_record tune_fit util proc usl registry)
CLIENT_OBJ := $(BUILD)/client/loadgen.o $(BUILD)/client/options.o $(BUILD)/client/engine.o \
              $(BUILD)/client/result.o $(BUILD)/client/report.o $(BUILD)/client/output.o \
              $(BUILD)/client/hist.o $(BUILD)/client/hdrlog.o \
              $(BUILD)/client/merge.o $(BUILD)/client/timerq.o $(BUILD)/client/opening.o $(BUILD)/client/account.o
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

.PHONY: all tests test help clean format format-check check-deps bench advise book sweep-backlog \
        sweep-pool workloads plots smoke reference-plots fuzz install uninstall tune noise
.DEFAULT_GOAL := all

all: $(SERVERS) $(LOADGEN) $(PROBE_BIN) $(BENCH_RUN) $(BENCH_TUNE) ## build every server (servers/models), loadgen, probe, bin/bench-run and bin/bench-tune

$(BUILD) $(BUILD)/lib $(BUILD)/servers $(BUILD)/tests $(BUILD)/client $(BUILD)/bench/src $(BIN):
	@mkdir -p $@

$(BUILD)/%.o: %.c | $(BUILD)/lib $(BUILD)/servers $(BUILD)/tests $(BUILD)/client $(BUILD)/bench/src
	$(CC) $(CPPFLAGS) -Iclient -I$(BUILD) $(ALL_CFLAGS) -c $< -o $@

# What built the binaries (commit, compiler, flags), for --version and loadgen's results;
# rewritten only when it changes.
CC_VERSION := $(shell $(CC) --version 2>/dev/null | head -n1)
$(BUILD)/commit.h: FORCE | $(BUILD)
	@{ echo '#define GIT_COMMIT "$(GIT_COMMIT)"'; \
	   echo '#define BUILD_CC "$(subst ",,$(CC_VERSION))"'; \
	   echo '#define BUILD_CFLAGS "$(subst ",,$(strip $(filter-out -Werror,$(ALL_CFLAGS))))"'; } > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@
$(BUILD)/client/loadgen.o $(BUILD)/client/options.o $(BUILD)/client/output.o \
    $(BUILD)/client/merge.o $(BUILD)/lib/srv.o: $(BUILD)/commit.h
.PHONY: FORCE
FORCE:

$(LOADGEN): $(CLIENT_OBJ) $(BUILD)/libcb.a | $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ -lz $(LDLIBS)

ifeq ($(FLAVOR),plain)
$(BENCH_RUN): $(BENCH_OBJ) $(BUILD)/client/hist.o $(BUILD)/libcb.a | $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BENCH_TUNE): $(TUNE_OBJ) $(BUILD)/libcb.a | $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
else
$(BENCH_RUN) $(BENCH_TUNE):
	@$(MAKE) --no-print-directory SANITIZE= $@
endif


# probe: the fixed CPU probe bench/run times for its noise floor. (PROBE, the user's knob,
# is the probe's duration: bench/run --probe.)
$(PROBE_BIN): $(BUILD)/client/probe.o $(BUILD)/libcb.a | $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The headers the build takes from Debian packages: a missing one stops make naming the
# packages to install (make check-deps installs them, as root), before a compiler error would.
BUILD_HEADERS := liburing.h:liburing-dev st.h:libst-dev zlib.h:zlib1g-dev json-c/json.h:libjson-c-dev
TEST_HEADERS  := criterion/criterion.h:libcriterion-dev
missing_pkgs   = $(strip $(foreach h,$(1),$(if $(wildcard /usr/include/$(firstword $(subst :, ,$(h)))),,$(lastword $(subst :, ,$(h))))))
.PHONY: have-headers have-test-headers
have-headers have-test-headers:
	@m="$(call missing_pkgs,$(if $(filter have-test-headers,$@),$(TEST_HEADERS),$(BUILD_HEADERS)))"; \
	[ -z "$$m" ] || { echo "make: missing packages: $$m" >&2; \
		echo "make: install them with 'make check-deps' (as root: ci/install-deps.sh) or 'sudo apt-get install $$m'" >&2; \
		exit 1; }
$(LIB_OBJ) $(CLIENT_OBJ) $(ALL_MODELS:%=$(BUILD)/servers/%-srv.o): | have-headers
$(TEST_OBJ): | have-test-headers

$(BUILD)/libcb.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

# What each model takes (its capabilities: -w, locks, accept modes, pollers, ...) is made from
# its registry line, the one place it is said: build/<flavour>/models.h, CAPS_<name>.
$(BUILD)/models.h: servers/models bench/models | $(BUILD)
	@bench/models caps > $@.tmp && mv $@.tmp $@
$(ALL_MODELS:%=$(BUILD)/servers/%-srv.o) $(BUILD)/lib/srv.o: $(BUILD)/models.h

# Each model is its own thin main over lib/: servers/<name>-srv.c, listed in servers/models.
$(BIN)/%-srv: $(BUILD)/servers/%-srv.o $(BUILD)/libcb.a | $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)

# uring-srv also links liburing (Debian's liburing-dev, from ci/install-deps.sh).
$(BIN)/uring-srv: $(BUILD)/servers/uring-srv.o $(BUILD)/libcb.a | $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) -luring $(LDLIBS)

# green-srv links State Threads (Debian's libst-dev, from ci/install-deps.sh).
$(BIN)/green-srv: $(BUILD)/servers/green-srv.o $(BUILD)/libcb.a | $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) -lst $(LDLIBS)

$(TESTS): $(TEST_OBJ) $(BUILD)/libcb.a | $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ -lcriterion -lz $(LDLIBS)

check-deps:                                       ## install what the build and tests need
	@ci/install-deps.sh

# The sanitizer runs come first and the plain run last, so the output ends with Criterion's
# synthesis line. Server processes started by the tests are the instrumented copies.
# The threaded models (the registry's threads column), run under ThreadSanitizer too.
TSAN_MODELS := $(shell bench/models threaded)
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
           TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1

tests: $(SERVERS) $(LOADGEN) $(PROBE_BIN) $(BENCH_RUN) $(BENCH_TUNE) $(TESTS) ## build the servers, loadgen, bench-run and the test binary

# Each phase writes a TAP report to build/test-reports/; ci/skips.sh then lists every skipped
# test with its reason (CI also fails on a reason ci/expected-skips does not list). The bench
# tests (the shell tooling over the real binaries) run once, in the plain phase: the
# sanitizers' coverage of the binaries comes from the servers, faults, events and loadgen tests.
# So does the docs test of quoted figures (it runs the tools, not code under test).
REPORTS := build/test-reports
phase = echo "== $$(date +%H:%M:%S) $(1)"; $(2) --tap=$(REPORTS)/$(3).tap; \
	r=$$?; echo "== $$(date +%H:%M:%S) end of $(3): exit $$r"; [ $$r -eq 0 ] || rc=$$r

# make test installs what the tests use as well (wrk, nginx, sshd, chromium): a user's run
# leaves out no test that CI runs.
test:                                             ## install what the tests use, build and run every test: unit, integration, ASan+UBSan, TSan (about 20 min)
	@ci/install-deps.sh --test
	@$(MAKE) --no-print-directory SANITIZE=address,undefined tests
	@$(MAKE) --no-print-directory SANITIZE=thread $(addprefix bin/tsan/,$(addsuffix -srv,$(TSAN_MODELS))) bin/tsan/loadgen
	@$(MAKE) --no-print-directory tests
	@rm -rf $(REPORTS) && mkdir -p $(REPORTS)
	@rc=0; \
	$(call phase,AddressSanitizer + UBSan: unit tests and every server (about 6 min),$(SAN_ENV) SRV_BIN=bin/asan bin/asan/unit-tests --filter '!(bench/*|docs/quoted_figures*)',asan); \
	for f in servers loadgen faults events; do \
		$(call phase,ThreadSanitizer: $$f tests on the threaded servers and loadgen,$(SAN_ENV) SRV_BIN=bin/tsan SRV_MODELS="$(TSAN_MODELS)" bin/unit-tests --filter "$$f/*",tsan-$$f); \
	done; \
	$(call phase,plain build: every test (about 7 min),SRV_BIN=bin bin/unit-tests,plain); \
	ci/skips.sh $(REPORTS)/*.tap; \
	exit $$rc

# ---- fuzzing (clang's libFuzzer) ----
FUZZ_TIME ?= 60
FUZZ_CC   ?= clang
FUZZERS   := build/fuzz/fuzz_proto build/fuzz/fuzz_conn
build/fuzz:
	@mkdir -p $@
build/fuzz/fuzz_proto: tests/fuzz/fuzz_proto.c lib/proto.c | build/fuzz
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Ilib $^ -o $@
build/fuzz/fuzz_conn: tests/fuzz/fuzz_conn.c lib/conn.c lib/proto.c lib/payload.c | build/fuzz
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Ilib $^ -o $@

fuzz: $(FUZZERS)                                  ## fuzz the parser and the connection core, FUZZ_TIME s each (60)
	@for f in proto conn; do \
		mkdir -p build/fuzz/corpus-$$f; \
		echo "== fuzz_$$f for $(FUZZ_TIME) s"; \
		build/fuzz/fuzz_$$f -max_total_time=$(FUZZ_TIME) -max_len=4096 -print_final_stats=1 \
			-artifact_prefix=build/fuzz/crash-$$f- build/fuzz/corpus-$$f tests/fuzz/corpus/$$f \
			2>build/fuzz/fuzz_$$f.log || { tail -n 40 build/fuzz/fuzz_$$f.log; exit 1; }; \
		grep -E "^stat::number_of_executed_units|^Done" build/fuzz/fuzz_$$f.log || true; \
	done

# ---- benchmarks ----
# Any suite field can be overridden: make bench SUITE=default MODELS="prefork prethread" CONC="8 64"
# (each variable is bench/run's option of that name: PROBE=1s is --probe 1s, SERVER_CPUS=1 is
# --server-cpus 1). DRY_RUN=1 prints the cells and the estimated time of the suite without
# starting a server.
SUITE ?= default
# Every option of bench/run is read from the make variable of its name (bench/run --dimensions
# lists them): bench/run --from-make takes each from the environment, where make puts the
# variables given on its command line. Nothing is dropped, and no value passes through a shell.
BENCH_OPTS = --from-make

bench: check-deps all                             ## run a suite (SUITE=default) and draw its plots
	bench/run $(SUITE) $(BENCH_OPTS)

# bench/run exits 3 when a cell failed: the tables are still printed (the failed cells are
# marked in them), and make then fails.
book: check-deps all                              ## the book's experiment, as given and scaled: tables 5.6, 5.7
	@rc=0; for s in book book-scaled; do \
		r=0; dir=$$(bench/run $$s $(BENCH_OPTS)) || r=$$?; \
		[ $$r -eq 0 ] || [ $$r -eq 3 ] || exit $$r; \
		[ $$r -eq 0 ] || rc=$$r; \
		if [ -n "$(filter-out 0 no,$(DRY_RUN))" ]; then printf '%s\n' "$$dir"; continue; fi; \
		if [ $$s = book ]; then echo "## book: WORK 250000"; else echo; \
			echo "## book-scaled: WORK 30000000, a request costing about what it cost the book"; fi; \
		cat "$$dir/plots/book-tables.md" || exit 1; \
	done; exit $$rc

sweep-backlog: check-deps all                     ## backlog 1..1024 against bursts of new connections
	bench/run backlog $(BENCH_OPTS)

sweep-pool: check-deps all                        ## pools under a burst: sizes, locks, accept modes, dynamic
	bench/run pool $(BENCH_OPTS)

# A failed cell does not stop the others: each suite runs, and make fails at the end.
WORKLOADS := conns idle mix slow rate sieve
workloads: check-deps all                         ## the workload suites: conns idle mix slow rate sieve (50 to 70 min)
	@rc=0; for s in $(WORKLOADS); do \
		r=0; bench/run $$s $(BENCH_OPTS) || r=$$?; [ $$r -eq 0 ] || rc=$$r; \
	done; exit $$rc

smoke: check-deps all                             ## the small suite CI runs (under 2 minutes)
	bench/run smoke $(BENCH_OPTS)

noise: check-deps all                             ## where this machine's noise lives and which pairing sees through it (about 6 min, QUICK=1 2.5; NOISE="-a M -b M ...")
	bench/noise $(if $(QUICK),-q) $(NOISE)

# bench/tune reads MODEL and its other options (QUICK=1, SLO=p99=10ms, CLIENTS=, WORKERS=, ...)
# from make's command line the same way: bench/tune --help lists them.
tune: check-deps all                              ## recommend -w and -b for MODEL=NAME, with the evidence (QUICK=1, SLO=p99=10ms)
	bench/tune --from-make

# bench/advise reads the workload and its terms (CONC=, WORK=, BYTES=, MIX=, RATE=, KEEP=,
# IDLE=, THINK=, READ_RATE=, SLO=, CLASS_SLO=, MODELS=, QUICK=1, BUDGET=, OUT=, JSON=) from
# make's command line the same way: bench/advise --help lists them.
advise: check-deps all                            ## which model and settings for a workload, with the evidence (CONC=30 KEEP=0 IDLE= SLO=p99=50ms QUICK=1)
	bench/advise --from-make

RUN ?= results/$(SUITE)-latest
plots: check-deps                                 ## draw a run's plots again from its JSON: RUN=DIR
	bench/plot $(RUN)

# The committed reference images are drawn from the committed reference results.
reference-plots: check-deps                       ## summarise results/reference/ again, redraw plots/reference/ (a gnuplot warning fails) and write each run's report.html beside its plots
	@for d in results/reference/*/; do \
		n=$$(basename $$d); \
		bench/summarize $$d > $$d/summary.json.tmp && mv $$d/summary.json.tmp $$d/summary.json || exit 1; \
		rm -f plots/reference/$$n/*.png plots/reference/$$n/*.svg; \
		bench/plot --strict $$d plots/reference/$$n || exit 1; \
		rm -rf plots/reference/$$n/data; \
		bench/report $$d --plots plots/reference/$$n -o plots/reference/$$n/report.html || exit 1; \
	done

# ---- installing ----
# The servers, loadgen and probe, their man pages (man/srv.1 once per server) and bash
# completion, under PREFIX (default /usr/local), staged under DESTDIR for packages.
PREFIX  ?= /usr/local
BINDIR  := $(DESTDIR)$(PREFIX)/bin
MAN1DIR := $(DESTDIR)$(PREFIX)/share/man/man1
COMPDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
# install copies what `make` built and never builds (a root install does not compile, and a
# test that installs does not relink the binaries other tests are running).
install:                                          ## install what make built: binaries, man pages, completion: PREFIX=/usr/local DESTDIR=
	@for f in $(SERVERS) $(LOADGEN) $(PROBE_BIN); do \
		[ -x $$f ] || { echo "make install: $$f is not built; run make first" >&2; exit 1; }; \
	done
	install -d $(BINDIR) $(MAN1DIR) $(COMPDIR)
	install -m 755 $(SERVERS) $(LOADGEN) $(PROBE_BIN) $(BINDIR)/
	install -m 644 man/loadgen.1 $(MAN1DIR)/loadgen.1
	for m in $(ALL_MODELS); do install -m 644 man/srv.1 $(MAN1DIR)/$$m-srv.1 || exit 1; done
	sed 's/@MODELS@/$(ALL_MODELS)/' completions/concurrency-bench.bash > $(COMPDIR)/loadgen
	chmod 644 $(COMPDIR)/loadgen
	for m in $(ALL_MODELS); do ln -sf loadgen $(COMPDIR)/$$m-srv || exit 1; done

uninstall:                                        ## remove what install put under PREFIX and DESTDIR
	rm -f $(addprefix $(BINDIR)/,$(notdir $(SERVERS) $(LOADGEN) $(PROBE_BIN)))
	rm -f $(MAN1DIR)/loadgen.1 $(addprefix $(MAN1DIR)/,$(ALL_MODELS:%=%-srv.1))
	rm -f $(COMPDIR)/loadgen $(addprefix $(COMPDIR)/,$(ALL_MODELS:%=%-srv))

format:                                           ## format the C sources with .clang-format
	clang-format -i lib/*.[ch] servers/*.c tests/*.[ch] tests/fuzz/*.c $(wildcard client/*.[ch] bench/src/*.[ch])

format-check:                                     ## fail if any C source is not formatted
	clang-format --dry-run --Werror lib/*.[ch] servers/*.c tests/*.[ch] tests/fuzz/*.c $(wildcard client/*.[ch] bench/src/*.[ch])

clean:                                            ## remove build/ and bin/
	rm -rf build bin

help:                                             ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | \
		awk -F'\t' '{ printf "  make %-16s %s\n", $$1, $$2 }'
	@echo "  variables: SANITIZE=address,undefined|thread  WERROR=1  CC=  CFLAGS="

# The objects are kept (not deleted as intermediates), so that a second make does nothing.
.SECONDARY:

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/*/*/*.d build/plain/bench/src/*.d)
