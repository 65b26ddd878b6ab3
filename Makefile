# Makefile — builds the vakt binary, unit tests and fuzz harnesses.
#
#   make            build ./vakt
#   make test       unit tests (cmocka) then end-to-end tests (pytest)
#   make asan       the same tests against an ASan+UBSan build (build-asan/)
#   make fuzz       build libFuzzer harnesses (clang); make fuzz-run FUZZ_SECONDS=600 runs them
#   make bench      side-by-side benchmarks against peers (bench/)
#   make soak       long tests kept out of the default suite (60 s syslog load, 100k query cases)
CC      ?= cc
PYTHON  ?= /usr/bin/python3
PKGS    := libpcap libndpi libcrypto zlib libbrotlidec libzstd libxxhash libmagic jansson \
           sqlite3 libmaxminddb libcurl gnutls
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CSTD    := -std=c17 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
OPT     ?= -O2 -g
B       ?= build
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(EXTRA_CFLAGS) $(PKG_CFLAGS) -Isrc -MMD -MP
LIBS    := $(PKG_LIBS) -lpthread -lm

LIB_SRC := $(sort $(wildcard src/core/*.c src/capture/*.c src/decode/*.c src/flow/*.c src/proto/*.c \
           src/query/*.c src/store/*.c src/logs/*.c src/enrich/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
VAKT    := $(if $(filter build,$(B)),vakt,$(B)/vakt)

.PHONY: all deps demo check test unit e2e asan fuzz fuzz-run bench soak clean
all: $(VAKT)

deps:
	./scripts/deps.sh

# The README's two commands.
demo: deps
	$(MAKE) all
	rm -rf demo-data
	./vakt ingest --data demo-data ../shared/corpus/pcap/arkime
	./vakt values --data demo-data --format table --top 8 service app ip.dst alias.host
	./vakt query --data demo-data --format table --limit 15 'service=http,tls && exists alias.host'
	@echo "Explore further: ./vakt values --data demo-data --where 'service=dns' dns.query; ./vakt show --data demo-data ID; ./vakt pcap --data demo-data ID -o s.pcap"

check: deps
	$(MAKE) test

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/libvakt.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(VAKT): $(CLI_OBJ) $(B)/libvakt.a
	$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $(CLI_OBJ) $(B)/libvakt.a $(LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libvakt.a tests/unit/vk_test.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(shell pkg-config --cflags cmocka) -Itests/unit -o $@ $< $(B)/libvakt.a $(LIBS) $(shell pkg-config --libs cmocka)

unit: $(UNIT_BIN)
	@fail=0; total=0; for t in $(UNIT_BIN); do total=$$((total+1)); \
	  VAKT_CORPUS=$(CURDIR)/../shared/corpus $$t >$$t.log 2>&1 || { fail=$$((fail+1)); cat $$t.log; }; done; \
	  grep -h -E '^\[  (PASSED|FAILED)  \]' $(addsuffix .log,$(UNIT_BIN)) | awk '{s[$$2]+=$$4} END {for (k in s) printf "unit: %d tests %s\n", s[k], k}'; \
	  echo "unit: $$total suites, $$fail failed"; test $$fail -eq 0

e2e: $(VAKT)
	VAKT_BIN=$(CURDIR)/$(VAKT) $(PYTHON) -m pytest -q tests/e2e

test: all unit e2e

asan:
	$(MAKE) B=build-asan CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  ASAN_OPTIONS=detect_leaks=1 build-asan/vakt unit e2e

# the instrumented library is built once (a stamp), not by every harness's recipe: with -j
# those sub-makes compiled the same objects at the same time
build-fuzz/.lib: $(LIB_SRC)
	@mkdir -p build-fuzz
	$(MAKE) B=build-fuzz/lib CC=clang OPT="-O1 -g" EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined" build-fuzz/lib/libvakt.a
	@touch $@

build-fuzz/%: tests/fuzz/%.c build-fuzz/.lib
	clang $(CSTD) $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) -Isrc -o $@ $< build-fuzz/lib/libvakt.a $(LIBS)

fuzz: $(FUZZ_BIN)

FUZZ_SECONDS ?= 60
fuzz-run: fuzz
	./tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

bench: all
	./bench/run.sh
	./bench/store.sh

soak: all $(B)/tests/test_loginput_load $(B)/tests/test_query_random
	VAKT_SOAK=1 VAKT_CORPUS=$(CURDIR)/../shared/corpus $(B)/tests/test_loginput_load
	VK_QUERY_CASES=100000 $(B)/tests/test_query_random
	VAKT_BIN=$(CURDIR)/$(VAKT) VAKT_SOAK=1 $(PYTHON) -m pytest -q tests/e2e -m soak

clean:
	rm -rf build build-asan build-fuzz vakt

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
