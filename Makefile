# backend: see README.md. The mode executables are derived from the mode
# files in fcgi-apps/ (every .c there but registry.c, main.c, generate.c
# and openapi.c): backend-<mode> links its own mode and common/ only.

CC       ?= cc
BUILD    ?= build
BIN      ?= bin
PKGS     := fcgi jansson libpq libcrypto libmicrohttpd
# The packages' flags are asked of pkg-config the first time a compile or
# link needs them, never while make parses this file: on a fresh machine
# `make test` and `make run` install the packages (deps) before the build
# runs, in a second make that asks only then. $(call pkg_once,VAR,ARGS)
# runs `pkg-config ARGS` once and keeps the answer in VAR; a package still
# missing stops the build with one line saying how to install it.
pkg_once = $(eval $1 := $$(shell pkg-config $2 2>/dev/null || echo PKG_MISSING))$(if $(filter PKG_MISSING,$($1)),$(error missing build packages ($(PKGS)): run 'make deps' (make test and make run do it for you)),$($1))
PKG_CFLAGS = $(call pkg_once,PKG_CFLAGS,--cflags $(PKGS))
PKG_LIBS   = $(call pkg_once,PKG_LIBS,--libs $(filter-out libmicrohttpd,$(PKGS)))
MHD_LIBS   = $(call pkg_once,MHD_LIBS,--libs libmicrohttpd)
CFLAGS   ?= -O2 -g
# The flags every object is built with, whatever CFLAGS the caller sets.
ALL_CFLAGS = -std=c11 -Wall -Wextra -Werror -pthread -Icommon $(PKG_CFLAGS)
LDLIBS   += $(PKG_LIBS) -lm -pthread

COMMON_SRCS := $(wildcard common/*.c)
# Every fcgi-apps/*.c but these is a mode file.
NOT_MODES   := fcgi-apps/registry.c fcgi-apps/main.c fcgi-apps/generate.c fcgi-apps/openapi.c
MODE_SRCS   := $(filter-out $(NOT_MODES),$(wildcard fcgi-apps/*.c))
MODES       := $(basename $(notdir $(MODE_SRCS)))
COMMON_OBJS := $(patsubst common/%.c,$(BUILD)/common/%.o,$(COMMON_SRCS))
# A mode too big for one file keeps its parts in fcgi-apps/<mode>/ (the sql
# mode); they are linked with it. fcgi-apps/mcp/ is backend-mcp.
MODE_PART_SRCS := $(filter-out fcgi-apps/mcp/%,$(wildcard fcgi-apps/*/*.c))
# mode_objs(name): a mode's own objects, its file and its parts.
mode_objs = $(BUILD)/modes/$(1).o $(patsubst fcgi-apps/%.c,$(BUILD)/modes/%.o,$(wildcard fcgi-apps/$(1)/*.c))
# Every mode with the registry: for the executables that carry them all.
MODE_OBJS   := $(patsubst fcgi-apps/%.c,$(BUILD)/modes/%.o,$(MODE_SRCS) $(MODE_PART_SRCS)) $(BUILD)/modes/registry.o \
               $(BUILD)/modes/openapi.o
# backend-mcp: the /mcp server (fcgi-apps/mcp/), every mode's tools in one
# executable; http.c holds its main, the rest is shared with tests/fuzzers.
MCP_SRCS    := $(wildcard fcgi-apps/mcp/*.c)
MCP_OBJS    := $(patsubst fcgi-apps/mcp/%.c,$(BUILD)/mcp/%.o,$(MCP_SRCS))
MCP_LIB_OBJS := $(filter-out $(BUILD)/mcp/http.o,$(MCP_OBJS))
# backend-registry: every mode's declarations, for what needs them all
# (lighttpd's routing, the route list, the check of every setting, the
# mode briefs the mode executables link: fcgi-apps/generate.c).
GEN_OBJS    := $(BUILD)/modes/generate.o $(MODE_OBJS) $(BUILD)/mcp/settings.o
BRIEFS_OBJ  := $(BUILD)/gen/mode_briefs.o
# The OpenAPI document (fcgi-apps/openapi.c), as a constant for the mode
# executables, in an archive: only the one that serves /openapi.json
# (health) names it, so only that one links it.
OPENAPI_LIB := $(BUILD)/gen/libopenapi.a
EXES        := $(addprefix $(BIN)/backend-,$(MODES)) $(BIN)/backend-mcp $(BIN)/backend-registry
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_EXES   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_EXES   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
# Test programs built like the unit tests but driven by an integration
# test, as they need a database: tests/unit/oracle_*.c.
ORACLE_SRCS := $(wildcard tests/unit/oracle_*.c)
ORACLE_EXES := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(ORACLE_SRCS))

# Keep the per-mode main objects: they are not throwaway intermediates.
.SECONDARY:
.SECONDEXPANSION:
.PHONY: all deps run test unit integration mode sanitize valgrind bench fuzz fuzzers clean lint format coverage
all: $(EXES) $(UNIT_EXES) $(ORACLE_EXES) docs/configuration.md

$(BUILD)/common/%.o: common/%.c $(wildcard common/*.h) | $(BUILD)/common
	$(CC) $(ALL_CFLAGS) $(CFLAGS) -c -o $@ $<
$(BUILD)/modes/%.o: fcgi-apps/%.c $(wildcard common/*.h) $(wildcard fcgi-apps/*.h) $(wildcard fcgi-apps/*/*.h) | $(BUILD)/modes
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ifcgi-apps $(CFLAGS) -c -o $@ $<
$(BUILD)/modes/main-%.o: fcgi-apps/main.c $(wildcard common/*.h) | $(BUILD)/modes
	$(CC) $(ALL_CFLAGS) $(CFLAGS) -DMODE_SYMBOL=mode_$* -c -o $@ $<
$(BUILD)/mcp/%.o: fcgi-apps/mcp/%.c $(wildcard fcgi-apps/mcp/*.h) $(wildcard fcgi-apps/*.h) $(wildcard common/*.h) | $(BUILD)/mcp
	$(CC) $(ALL_CFLAGS) -Ifcgi-apps/mcp -Ifcgi-apps $(CFLAGS) -c -o $@ $<
$(BIN)/backend-mcp: $(MCP_OBJS) $(MODE_OBJS) $(BUILD)/libcommon.a | $(BIN)
	$(CC) $(ALL_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(MHD_LIBS) $(LDLIBS)
$(BIN)/backend-registry: $(GEN_OBJS) $(BUILD)/libcommon.a | $(BIN)
	$(CC) $(ALL_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# What a mode executable knows of the others: their names and folders,
# generated from the registry (registry.h). Rewritten only when it changes.
$(BUILD)/gen/mode_briefs.c: $(BIN)/backend-registry | $(BUILD)/gen
	$< --briefs-c >$@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
# The docs' table of every mode's settings, from their declarations.
docs/configuration.md: $(BIN)/backend-registry
	@$< --settings-md >$(BUILD)/settings.md
	@awk -v table=$(BUILD)/settings.md '/^<!-- end of settings/ {skip = 0} !skip {print} \
	  /^<!-- settings: generated/ {while ((getline l < table) > 0) print l; skip = 1}' $@ >$(BUILD)/configuration.md
	@if cmp -s $(BUILD)/configuration.md $@; then touch $@; else cp $(BUILD)/configuration.md $@; fi
$(BUILD)/gen/openapi_doc.c: $(BIN)/backend-registry | $(BUILD)/gen
	$< --openapi-c >$@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/gen/openapi_doc.o: $(BUILD)/gen/openapi_doc.c fcgi-apps/registry.h $(wildcard common/*.h)
	$(CC) $(ALL_CFLAGS) -Ifcgi-apps $(CFLAGS) -c -o $@ $<
$(OPENAPI_LIB): $(BUILD)/gen/openapi_doc.o
	$(AR) rcs $@ $^
$(BRIEFS_OBJ): $(BUILD)/gen/mode_briefs.c fcgi-apps/registry.h $(wildcard common/*.h)
	$(CC) $(ALL_CFLAGS) -Ifcgi-apps $(CFLAGS) -c -o $@ $<
$(BUILD)/libcommon.a: $(COMMON_OBJS)
	$(AR) rcs $@ $^
# A mode executable: its main, its own mode, the briefs, the OpenAPI
# document if it serves it, common/. Nothing of another mode (tests/arch/check.sh checks
# it with nm).
$(BIN)/backend-%: $(BUILD)/modes/main-%.o $$(call mode_objs,$$*) $(BRIEFS_OBJ) $(OPENAPI_LIB) $(BUILD)/libcommon.a | $(BIN)
	$(CC) $(ALL_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(MCP_LIB_OBJS) $(MODE_OBJS) $(BUILD)/libcommon.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(CFLAGS) -Itests/unit -Ifcgi-apps/mcp -Ifcgi-apps $(LDFLAGS) -o $@ $< $(MCP_LIB_OBJS) $(MODE_OBJS) $(BUILD)/libcommon.a $(LDLIBS)
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/unit/fake_env.h $(MCP_LIB_OBJS) $(MODE_OBJS) $(BUILD)/libcommon.a | $(BUILD)/fuzz
	$(CC) $(ALL_CFLAGS) $(CFLAGS) -Ifcgi-apps/mcp -Ifcgi-apps -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(MCP_LIB_OBJS) $(MODE_OBJS) $(BUILD)/libcommon.a $(LDLIBS)
fuzzers: $(FUZZ_EXES)
$(BUILD)/common $(BUILD)/modes $(BUILD)/mcp $(BUILD)/gen $(BUILD)/tests $(BUILD)/fuzz $(BIN):
	mkdir -p $@

# Installs what is missing (Debian packages; needs root or sudo).
deps:
	@deploy/install-deps.sh

# The targets that install first build in a second make, started after deps
# has run, so that the build sees what was just installed.
BUILD_AFTER_DEPS = $(MAKE) --no-print-directory all

# The whole service on 127.0.0.1:4000 (PORT=), with a throwaway PostgreSQL
# when no DATABASE_URL or PG* variable is set.
run: deps
	@$(BUILD_AFTER_DEPS)
	@deploy/dev-run.sh

# Unit tests, the architecture check, then the integration suite through
# lighttpd; one summary line. make unit and make integration run a part.
test: deps
	@$(BUILD_AFTER_DEPS)
	@tests/run.sh
unit: deps
	@$(BUILD_AFTER_DEPS)
	@SUITES="unit arch" tests/run.sh
integration: deps
	@$(BUILD_AFTER_DEPS)
	@SUITES=integration tests/run.sh

# A new mode's skeleton, registered and tested: make mode NAME=<name>
# (docs/adding-a-mode.md).
mode:
	@tools/new-mode.sh "$(NAME)"

# The same suites against an ASan+UBSan build.
sanitize: deps
	$(MAKE) BUILD=build-asan BIN=bin-asan CC=clang \
	  CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" all
	@BACKEND_BIN=$(CURDIR)/bin-asan UNIT_DIR=$(CURDIR)/build-asan/tests SANITIZER=asan tests/run.sh

# The integration suite with every mode process under valgrind memcheck.
valgrind: deps
	@$(BUILD_AFTER_DEPS)
	@SANITIZER=valgrind tests/run.sh

# libFuzzer (with ASan+UBSan) on every tests/fuzz/fuzz_*.c target (request
# parsing, body validators, JSON escaping, SQL identifiers and table specs,
# the MCP message handler), FUZZ_SECONDS each (default 60); seeds in
# tests/fuzz/corpus/. A crash fails with its input kept in run/fuzz/.
FUZZ_SECONDS ?= 60
fuzz: deps
	$(MAKE) BUILD=build-fuzz CC=clang \
	  CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" fuzzers
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

# Throughput and latency against pgbench, pg-boss, graphile-worker and
# static lighttpd, in one run: docs/benchmarks.md. QUICK=1 for a short run;
# ONLY=mcp, ONLY=queue or ONLY=waiters for the MCP, the queue or the
# waiting-at-scale scenarios alone (WAITERS=N waiting requests, default
# 1000), each merged into the last results; REPS=N and CLIENTS="1 8" from
# the environment.
# What counting metrics costs is measured against the same build with the
# counting compiled out (bin-nometrics/, used by make bench only).
bench: deps
	@$(BUILD_AFTER_DEPS)
	@$(MAKE) --no-print-directory BUILD=build-nometrics BIN=bin-nometrics CFLAGS="$(CFLAGS) -DBACKEND_NO_METRICS" \
	  $(patsubst $(BIN)/%,bin-nometrics/%,$(EXES)) >/dev/null
	@QUICK=$(QUICK) ONLY=$(ONLY) NOMETRICS_BIN=$(CURDIR)/bin-nometrics tests/bench/run.sh

# The C sources make format and make lint read: every .c and .h of ours.
C_SOURCES = $(wildcard common/*.[ch] fcgi-apps/*.[ch] fcgi-apps/*/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c tests/bench/*.c)
# Every shell script: the deploy scripts, the test harness, the bats files.
SHELL_SCRIPTS = $(shell git ls-files '*.sh' '*.bash' '*.bats' .ci/run 'tests/fresh/*' 2>/dev/null)

# Formats the C sources in place (.clang-format).
format: deps
	clang-format -i $(C_SOURCES)

# Static checks, each failing on any finding: cppcheck on the C (warnings,
# performance, portability; a finding is fixed, or suppressed inline with its
# reason), shellcheck on every shell script (warnings and errors), and the C
# formatted as make format leaves it.
lint: deps
	cppcheck --error-exitcode=1 --enable=warning,performance,portability --inline-suppr --quiet \
	  --std=c11 -D_POSIX_C_SOURCE=200809L -Icommon -Ifcgi-apps -Ifcgi-apps/mcp \
	  --suppress=missingIncludeSystem common fcgi-apps tests/unit tests/fuzz tests/bench
	shellcheck -x -S warning $(SHELL_SCRIPTS)
	@clang-format --dry-run --Werror $(C_SOURCES) || { echo "lint: run make format" >&2; exit 1; }

# compile_commands.json for editors and clang tools: a clean build under bear.
compile_commands.json: deps
	bear --output $@ -- $(MAKE) --no-print-directory -B all

# Line and branch coverage of the unit and integration suites (gcovr):
# an instrumented build in build-cov/, every suite against it, the summary
# on stdout and an HTML report in run/coverage/.
coverage: deps
	$(MAKE) --no-print-directory BUILD=build-cov BIN=bin-cov CFLAGS="-O0 -g --coverage" LDFLAGS="--coverage" all
	@find build-cov -name '*.gcda' -delete
	@mkdir -p run
	-@BACKEND_BIN=$(CURDIR)/bin-cov UNIT_DIR=$(CURDIR)/build-cov/tests tests/run.sh >run/coverage-tests.log 2>&1; tail -n 1 run/coverage-tests.log
	@mkdir -p run/coverage
	gcovr --root . --object-directory build-cov --exclude 'tests/.*' --print-summary \
	  --html-details run/coverage/index.html build-cov

clean:
	rm -rf build build-asan build-fuzz build-cov bin bin-asan bin-cov
