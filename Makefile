# libgate - see README.md.  `make` builds build/libgate.a, build/libgate.so
# and build/gate; `make test` installs what is missing, builds, and runs the
# unit tests and the spec harness.

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-missing-field-initializers -Werror=implicit-function-declaration
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -fPIC $(WARN) $(BUILD_ID_FLAG) $(CFLAGS) $(EXTRA_CFLAGS)
LDLIBS  := -lxxhash -lcapstone -lffi -lcrypto -lseccomp -lm -lpthread
PREFIX  ?= /usr/local
# test scripts that link programs against the library need the same flags
export EXTRA_LDFLAGS

LIB_SRC := $(wildcard compiler/*.c codegen-x86_64/*.c codegen-arm64/*.c world/*.c \
                      runtime/*.c snapshot/*.c abi/*.c)
ARCH    := $(shell $(CC) -dumpmachine | cut -d- -f1)
LIB_ASM := $(wildcard runtime/*-$(ARCH).S world/*-$(ARCH).S)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(LIB_ASM:%.S=$(BUILD)/obj/%.o)
HDRS    := libgate.h $(wildcard */*.h) compiler/opcodes.def
# Which compiler made an AOT object: a hash of the library's sources, the
# same for every ISA's build of them (objects record it; another build's
# objects are compiled again, so a fixed compiler never runs old code).
ID_SRC   := $(sort $(LIB_SRC) $(wildcard runtime/*.S world/*.S) $(filter-out test/% cli/% bench/% examples/%,$(HDRS)))
BUILD_ID := $(shell cat $(ID_SRC) | sha256sum | cut -c1-16)
BUILD_ID_FLAG := -DGATE_BUILD_ID=0x$(BUILD_ID)ull

UNIT_SRC  := $(wildcard test/unit_*.c)
UNIT_BIN  := $(UNIT_SRC:test/%.c=$(BUILD)/test/%)

.PHONY: all lib deps deps-arm64 test test-bins check-arm64 unit spec asan demo bench fuzz fuzz-smoke clean install examples

all: $(BUILD)/libgate.a $(BUILD)/libgate.so $(BUILD)/gate

lib: $(BUILD)/libgate.a

$(BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

# the one file that uses BUILD_ID is compiled again when any source changes
$(BUILD)/obj/runtime/object.o: $(ID_SRC) Makefile

$(BUILD)/libgate.a: $(LIB_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BUILD)/libgate.so: $(LIB_OBJ)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libgate.so.0 -o $@ $^ $(LDLIBS) $(EXTRA_LDFLAGS)

CLI_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard cli/*.c))
$(BUILD)/gate: $(CLI_OBJ) $(BUILD)/libgate.a
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) -ljansson $(EXTRA_LDFLAGS)

$(BUILD)/test/unit_%: test/unit_%.c test/unit.h $(wildcard test/data/*.h) $(BUILD)/libgate.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libgate.a $(LDLIBS) -lcmocka $(EXTRA_LDFLAGS)

# wasm modules of the world tests, next to the test binary
WORLD_WASM := $(patsubst test/world/%.wat,$(BUILD)/test/world/%.wasm,$(wildcard test/world/*.wat))
$(BUILD)/test/world/%.wasm: test/world/%.wat
	@mkdir -p $(dir $@)
	@wat2wasm $< -o $@
$(BUILD)/test/unit_world: $(WORLD_WASM)
# and of the zygote tests: WAT modules and a C program (wasm32-wasi)
ZYGOTE_WASM := $(patsubst test/zygote/%.wat,$(BUILD)/test/zygote/%.wasm,$(wildcard test/zygote/*.wat))
$(BUILD)/test/zygote/%.wasm: test/zygote/%.wat
	@mkdir -p $(dir $@)
	@wat2wasm $< -o $@
$(BUILD)/test/zygote/zygote.wasm: test/wasi/zygote.c
	@mkdir -p $(dir $@)
	@clang --target=wasm32-wasi -O2 -o $@ $<
$(BUILD)/test/unit_zygote: $(ZYGOTE_WASM) $(BUILD)/test/zygote/zygote.wasm
RESOURCES_WASM := $(patsubst test/resources/%.wat,$(BUILD)/test/resources/%.wasm,$(wildcard test/resources/*.wat))
$(BUILD)/test/resources/%.wasm: test/resources/%.wat
	@mkdir -p $(dir $@)
	@wat2wasm $< -o $@
$(BUILD)/test/unit_resources: $(RESOURCES_WASM)

$(BUILD)/spec-runner: test/spec_runner.c test/json.c test/json.h $(BUILD)/libgate.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ test/spec_runner.c test/json.c $(BUILD)/libgate.a $(LDLIBS) $(EXTRA_LDFLAGS)

# Edits snapshots the way an attacker would (test/attacks.sh).
$(BUILD)/snapedit: test/snapedit.c
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< -lxxhash $(EXTRA_LDFLAGS)

# Installs the Debian packages the build and the tests need, if missing.
deps:
	@bash tools/deps.sh

deps-arm64:
	@bash tools/deps.sh --arm64

unit: $(UNIT_BIN)
	@bash test/run-unit.sh $(UNIT_BIN)

# Converts ../shared/spec/*.wast into $(BUILD)/spec and runs every command.
spec: $(BUILD)/spec-runner
	@bash test/spec.sh $(BUILD)

# The whole suite: deps, build, unit tests, spec harness; last line is the
# total "N passed, N failed, N skipped".
test: deps
	@$(MAKE) --no-print-directory -s all $(UNIT_BIN) $(BUILD)/spec-runner $(BUILD)/snapedit examples
	@bash test/run-all.sh $(BUILD)

# Everything the test scripts run, for one BUILD (also the cross build).
test-bins: all $(UNIT_BIN) $(BUILD)/spec-runner $(BUILD)/snapedit examples

# The aarch64 build (gcc-aarch64-linux-gnu, Debian's arm64 -dev packages),
# tested under qemu-aarch64 on this machine.
ARM64_BUILD ?= build/arm64
check-arm64: deps-arm64
	@$(MAKE) --no-print-directory -s CC=aarch64-linux-gnu-gcc BUILD=$(ARM64_BUILD) test-bins
	@bash test/run-arm64.sh $(ARM64_BUILD)

# AddressSanitizer + UndefinedBehaviorSanitizer build of everything, tested.
asan:
	@$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" ARM64=0 test

# The README's main command: compile, run, stop, snapshot, resume, and
# migrate to the aarch64 build (under qemu) and back.
demo: deps deps-arm64 all
	@$(MAKE) --no-print-directory -s CC=aarch64-linux-gnu-gcc BUILD=$(ARM64_BUILD) all examples
	@$(MAKE) --no-print-directory -s examples
	@bash examples/demo.sh $(BUILD)

# Benchmarks against the peers (bench/run.sh); writes bench/results.md.
$(BUILD)/bench/micro: bench/micro.c libgate.h $(BUILD)/libgate.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -I. -o $@ bench/micro.c $(BUILD)/libgate.a $(LDLIBS) $(EXTRA_LDFLAGS)
$(BUILD)/bench/capi-run: bench/capi-run.c libgate.h $(BUILD)/libgate.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -I. -o $@ bench/capi-run.c $(BUILD)/libgate.a $(LDLIBS) $(EXTRA_LDFLAGS)
$(BUILD)/bench/world: bench/world.c libgate.h $(BUILD)/libgate.a $(WORLD_WASM)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -I. -o $@ bench/world.c $(BUILD)/libgate.a $(LDLIBS) $(EXTRA_LDFLAGS)
$(BUILD)/bench/zygote: bench/zygote.c libgate.h $(BUILD)/libgate.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -I. -o $@ bench/zygote.c $(BUILD)/libgate.a $(LDLIBS) $(EXTRA_LDFLAGS)
bench: deps all $(BUILD)/bench/micro $(BUILD)/bench/capi-run $(BUILD)/bench/world $(BUILD)/bench/zygote
	@bash bench/run.sh $(BUILD)

# libFuzzer target for the decoder and validator (clang).  FUZZ_TIME in s.
FUZZ_TIME ?= 600
DIFF_SEEDS ?= 20000
$(BUILD)/fuzz/fuzz_decode: test/fuzz/fuzz_decode.c $(LIB_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE $(BUILD_ID_FLAG) -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -o $@ test/fuzz/fuzz_decode.c $(LIB_SRC) $(LIB_ASM) $(LDLIBS)
$(BUILD)/fuzz/fuzz_snapshot: test/fuzz/fuzz_snapshot.c $(LIB_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE $(BUILD_ID_FLAG) -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -o $@ test/fuzz/fuzz_snapshot.c $(LIB_SRC) $(LIB_ASM) $(LDLIBS)
# Both fuzzers for FUZZ_TIME seconds each (docs/fuzzing.md); the snapshot
# fuzzer's seeds come from the test programs (make test builds them).
fuzz: deps $(BUILD)/fuzz/fuzz_decode $(BUILD)/fuzz/fuzz_snapshot all $(BUILD)/test/unit_forge examples $(BUILD)/spec-runner
	@bash test/fuzz/run.sh $(BUILD) $(FUZZ_TIME)
	@bash test/fuzz/run-snapshot.sh $(BUILD) $(FUZZ_TIME)
	@bash test/fuzz/difftest.sh $(BUILD) 1 $(DIFF_SEEDS) --all-modes

# The embedding examples, linked against the build tree.
examples: $(BUILD)/examples/host $(BUILD)/examples/guest.wasm $(BUILD)/examples/migrate \
          $(BUILD)/examples/migrate.wasm $(BUILD)/examples/world $(BUILD)/examples/scripts.wasm \
          $(BUILD)/examples/host-cpp $(BUILD)/examples/doc $(BUILD)/examples/document/notes1.wasm \
          $(BUILD)/examples/document/notes2.wasm $(BUILD)/examples/engine \
          $(patsubst examples/game/%.wat,$(BUILD)/examples/game/%.wasm,$(wildcard examples/game/*.wat))
# a game engine's scripts (libpng for its frames)
$(BUILD)/examples/engine: examples/game/engine.c libgate.h $(BUILD)/libgate.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -I. -o $@ $< $(BUILD)/libgate.a $(LDLIBS) -lpng $(EXTRA_LDFLAGS)
$(BUILD)/examples/game/%.wasm: examples/game/%.wat
	@mkdir -p $(dir $@)
	@wat2wasm $< -o $@
# a document that carries its program: the launcher and two editor versions
$(BUILD)/examples/doc: examples/document/doc.c libgate.h $(BUILD)/libgate.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -I. -o $@ $< $(BUILD)/libgate.a $(LDLIBS) $(EXTRA_LDFLAGS)
$(BUILD)/examples/document/%.wasm: examples/document/%.c
	@mkdir -p $(dir $@)
	@clang --target=wasm32-wasi -O2 -Wall -Wextra -Werror -o $@ $<
# a C++ host against the same header, with the C++ compiler that goes with CC
CXX_FOR_CC := $(if $(filter %gcc,$(CC)),$(patsubst %gcc,%g++,$(CC)),c++)
$(BUILD)/examples/host-cpp: examples/host.cpp libgate.h $(BUILD)/libgate.a
	@mkdir -p $(dir $@)
	@echo "  CXX     $@"
	@$(CXX_FOR_CC) -std=c++17 -Wall -Wextra -Wpedantic -Werror $(CFLAGS) $(EXTRA_CFLAGS) -I. -o $@ $< \
	  $(BUILD)/libgate.a $(LDLIBS) -static-libstdc++ -static-libgcc $(EXTRA_LDFLAGS)
$(BUILD)/examples/%: examples/%.c libgate.h $(BUILD)/libgate.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -I. -o $@ $< $(BUILD)/libgate.a $(LDLIBS) $(EXTRA_LDFLAGS)
$(BUILD)/examples/%.wasm: examples/%.wat
	@mkdir -p $(dir $@)
	@wat2wasm $< -o $@

# libgate.a, libgate.so, libgate.h, gate.pc and gate under PREFIX.
install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(BUILD)/libgate.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libgate.so $(DESTDIR)$(PREFIX)/lib/libgate.so.0
	ln -sf libgate.so.0 $(DESTDIR)$(PREFIX)/lib/libgate.so
	install -m 644 libgate.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(BUILD)/gate $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|0.1.0|' tools/gate.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gate.pc

clean:
	rm -rf build
