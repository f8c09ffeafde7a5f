# backend: see README.md. The mode executables are derived from the mode
# files in fcgi-apps/ (every .c there but registry.c, main.c and
# generate.c): backend-<mode> links its own mode and common/ only.

CC       ?= cc
BUILD    ?= build
BIN      ?= bin
PKGS     := fcgi jansson libpq libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libmicrohttpd 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lfcgi -ljansson -lpq -lcrypto)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
CFLAGS   ?= -O2 -g
# The flags every object is built with, whatever CFLAGS the caller sets.
ALL_CFLAGS := -std=c11 -Wall -Wextra -Werror -pthread -Icommon $(PKG_CFLAGS)
LDLIBS   += $(PKG_LIBS) -lm -pthread

COMMON_SRCS := $(wildcard common/*.c)
# Every fcgi-apps/*.c but these is a mode file.
NOT_MODES   := fcgi-apps/registry.c fcgi-apps/main.c fcgi-apps/generate.c
MODE_SRCS   := $(filter-out $(NOT_MODES),$(wildcard fcgi-apps/*.c))
MODES       := $(basename $(notdir $(MODE_SRCS)))
COMMON_OBJS := $(patsubst common/%.c,$(BUILD)/common/%.o,$(COMMON_SRCS))
# A mode too big for one file keeps its parts in fcgi-apps/<mode>/ (the sql
# mode); they are linked with it. fcgi-apps/mcp/ is backend-mcp.
MODE_PART_SRCS := $(filter-out fcgi-apps/mcp/%,$(wildcard fcgi-apps/*/*.c))
# mode_objs(name): a mode's own objects, its file and its parts.
mode_objs = $(BUILD)/modes/$(1).o $(patsubst fcgi-apps/%.c,$(BUILD)/modes/%.o,$(wildcard fcgi-apps/$(1)/*.c))
# Every mode with the registry: for the executables that carry them all.
MODE_OBJS   := $(patsubst fcgi-apps/%.c,$(BUILD)/modes/%.o,$(MODE_SRCS) $(MODE_PART_SRCS)) $(BUILD)/modes/registry.o
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
EXES        := $(addprefix $(BIN)/backend-,$(MODES)) $(BIN)/backend-mcp $(BIN)/backend-registry
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_EXES   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_EXES   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

# Keep the per-mode main objects: they are not throwaway intermediates.
.SECONDARY:
.SECONDEXPANSION:
.PHONY: all deps run test unit integration mode sanitize valgrind bench fuzz fuzzers clean
all: $(EXES) $(UNIT_EXES) docs/configuration.md

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
$(BRIEFS_OBJ): $(BUILD)/gen/mode_briefs.c fcgi-apps/registry.h $(wildcard common/*.h)
	$(CC) $(ALL_CFLAGS) -Ifcgi-apps $(CFLAGS) -c -o $@ $<
$(BUILD)/libcommon.a: $(COMMON_OBJS)
	$(AR) rcs $@ $^
# A mode executable: its main, its own mode, the briefs, common/. Nothing
# of another mode (tests/arch/check.sh checks it with nm).
$(BIN)/backend-%: $(BUILD)/modes/main-%.o $$(call mode_objs,$$*) $(BRIEFS_OBJ) $(BUILD)/libcommon.a | $(BIN)
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

# The whole service on 127.0.0.1:4000, with a throwaway PostgreSQL when no
# DATABASE_URL or PG* variable is set.
run: deps all
	@deploy/dev-run.sh

# Unit tests, the architecture check, then the integration suite through
# lighttpd; one summary line. make unit and make integration run a part.
test: deps all
	@tests/run.sh
unit: deps all
	@SUITES="unit arch" tests/run.sh
integration: deps all
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
valgrind: deps all
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

# Throughput and latency against pgbench, pg-boss and static lighttpd, in
# one run: docs/benchmarks.md. QUICK=1 for a short run.
bench: deps all
	@QUICK=$(QUICK) tests/bench/run.sh

clean:
	rm -rf build build-asan build-fuzz bin bin-asan
