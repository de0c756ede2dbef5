# Fuzzing (included from the top-level Makefile).
#
#   make fuzz FUZZ_SECONDS=N   build the harnesses, generate the seed corpora,
#                              run each harness N seconds (default 20)
#   make fuzz-bins             build the harnesses and the seed generator only
#   make fuzz-seeds            (re)generate build-fuzz/corpus/<target>/
#
# Every test/fuzz/fuzz_<target>.c is a libFuzzer harness.  The library is
# compiled again with clang, the project's warnings and ASan+UBSan plus the
# fuzzer's coverage instrumentation, into build-fuzz/ (fuzzer-no-link: the
# same instrumentation as -fsanitize=fuzzer, without libFuzzer's main(), so
# that the seed generator can link the same objects).  Clang alone warns
# that report.c's vsnprintf takes a non-literal format: it is a va_list
# wrapper whose callers are checked by KMFA_PRINTF, so that warning is off.

FUZZ_BUILD   := build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 $(WARN) -Wno-format-nonliteral -O1 -g $(FUZZ_SAN) \
                -fsanitize=fuzzer-no-link
FUZZ_CPPFLAGS := $(CPPFLAGS) -Itest/fuzz -Itest/softkey
FUZZ_PKGS    := $(HEAVY_PKGS) libcbor

FUZZ_HARNESS_SRCS := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_TARGETS := $(FUZZ_HARNESS_SRCS:test/fuzz/fuzz_%.c=%)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_SK_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,\
                $(filter-out test/softkey/main.c,$(SOFTKEY_SRCS))) \
                $(FUZZ_BUILD)/obj/test/fuzz/softkey_glue.o
FUZZ_UTIL_OBJ := $(FUZZ_BUILD)/obj/test/fuzz/fuzzutil.o
FUZZ_GEN     := $(FUZZ_BUILD)/gen-seeds
FUZZ_HDRS    := $(LIB_HDRS) $(wildcard test/softkey/*.h test/fuzz/*.h)

.PHONY: fuzz-bins fuzz-seeds
.SECONDARY: $(FUZZ_HARNESS_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)

$(FUZZ_BUILD)/obj/%.o: %.c $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (fuzz)"
	@$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) \
	    $(call pc_cflags,$(FUZZ_PKGS)) -c -o $@ $<

$(FUZZ_BUILD)/libkmfa-fuzz.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

# The softkey harness is the only one that needs the softkey's objects.
$(FUZZ_BUILD)/fuzz_softkey: FUZZ_EXTRA = $(FUZZ_SK_OBJS)
$(FUZZ_BUILD)/fuzz_softkey: $(FUZZ_SK_OBJS)

# The TokenReview harness runs the webhook's review code itself.
$(FUZZ_BUILD)/fuzz_tokenreview: FUZZ_EXTRA = \
    $(FUZZ_BUILD)/obj/webhook/review.o $(FUZZ_BUILD)/obj/webhook/registry.o
$(FUZZ_BUILD)/fuzz_tokenreview: $(FUZZ_BUILD)/obj/webhook/review.o \
    $(FUZZ_BUILD)/obj/webhook/registry.o
$(FUZZ_BUILD)/obj/webhook/review.o $(FUZZ_BUILD)/obj/webhook/registry.o \
    $(FUZZ_BUILD)/obj/test/fuzz/fuzz_tokenreview.o: $(wildcard webhook/*.h)

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/test/fuzz/fuzz_%.o $(FUZZ_UTIL_OBJ) \
    $(FUZZ_BUILD)/libkmfa-fuzz.a
	@echo "  LD      $@"
	@$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_UTIL_OBJ) \
	    $(FUZZ_EXTRA) $(FUZZ_BUILD)/libkmfa-fuzz.a \
	    $(call pc_libs,$(FUZZ_PKGS))

$(FUZZ_GEN): $(FUZZ_BUILD)/obj/test/fuzz/gen_seeds.o $(FUZZ_UTIL_OBJ) \
    $(FUZZ_SK_OBJS) $(FUZZ_BUILD)/libkmfa-fuzz.a
	@echo "  LD      $@"
	@$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -o $@ $^ \
	    $(call pc_libs,$(FUZZ_PKGS))

fuzz-bins: $(FUZZ_BINS) $(FUZZ_GEN)

fuzz-seeds: $(FUZZ_GEN)
	@bash test/fuzz/seeds.sh $(FUZZ_GEN) $(FUZZ_BUILD)/corpus

fuzz: fuzz-bins fuzz-seeds
	@bash test/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
