# Spatial-TTT toolkit build.
#
#   make            build every tool into bin/
#   make deps       check the Debian packages and install what is missing
#   make test       unit tests (Criterion) + end-to-end scripts, ends with "N passed, N failed"
#   make check      the same suite built with -fsanitize=address,undefined in build-san/
#   make fuzz       libFuzzer harnesses (clang) in build-fuzz/, each run FUZZ_SECONDS (default 60)
#   make bench      benchmarks, figures as ratios measured in one run
#   make demo       the main job on the synthetic default
#   make cuda       the CUDA model (nvcc, sm_90): its test and bench in build-cuda/, the
#                   CUDA-enabled sptt-train in bin-cuda/; nothing else needs nvcc
#   make clean
#
# Layout rules the wildcards rely on:
#   <stage>/tool_<name>.c   the thin main of bin/sptt-<name>
#   <stage>/*_mpi.c         code that needs MPI; linked only into MPI tools (built with mpicc)
#   <stage>/*.c             everything else goes into one static library
#   tests/unit/test_*.c     one Criterion binary each
#   tests/e2e/*.sh          one end-to-end script each
#   tests/bench/bench_*.c   one benchmark binary each
#   tests/fuzz/fuzz_*.c     one libFuzzer harness each (make fuzz)

CC     := gcc
MPICC  := mpicc
SAN    ?=
B      := build$(if $(SAN),-san)
BIN    := $(if $(SAN),$(B)/bin,bin)

STAGES := common schemas synth ingest geometry annotate pipeline model train export runtime
PKGS   := assimp qhull_r libzstd sqlite3 libpng openblas jansson libturbojpeg zlib \
          libavcodec libavformat libswscale libavutil

# Debian packages behind PKGS, the tests and the MPI tools. ffmpeg is for the tests' ffprobe.
# clang and libclang-rt-dev (its sanitizer and libFuzzer runtimes, only recommended by clang) are
# for make fuzz and the fuzz smoke test. python3-torch runs the PyTorch twin (python/sptt_twin),
# the outside check of the model in tests/e2e/twin.sh.
DEB_PKGS := gcc make pkg-config libassimp-dev libqhull-dev libzstd-dev libsqlite3-dev \
            libpng-dev libopenblas-dev libdnnl-dev libjansson-dev libturbojpeg0-dev zlib1g-dev \
            libcriterion-dev libopenmpi-dev openmpi-bin sqlite3 clang libclang-rt-dev python3-torch \
            libavcodec-dev libavformat-dev libswscale-dev libavutil-dev ffmpeg

# Evaluated lazily so that `make deps` works before the packages exist.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CRIT_CFLAGS = $(shell pkg-config --cflags criterion 2>/dev/null)
CRIT_LIBS   = $(shell pkg-config --libs criterion 2>/dev/null)

SANFLAGS := $(if $(SAN),-fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all)
# -Wno-format-truncation: messages are cut to their buffers on purpose; file paths go through
# sptt_pathf(), which reports a path that does not fit instead of truncating it.
# -fno-math-errno: nothing reads errno after a math call, and with errno to set a sqrtf cannot
# become a vector instruction; values are unchanged (IEEE results either way).
CFLAGS   := -std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wno-unknown-pragmas -Wno-format-truncation -fno-math-errno -fopenmp -pthread $(SANFLAGS)
CPPFLAGS  = -D_DEFAULT_SOURCE -MMD -MP $(addprefix -I,$(STAGES)) -Imodel/kern -I$(B)/gen $(PKG_CFLAGS)
LDFLAGS  := -fopenmp -pthread $(SANFLAGS)
LDLIBS    = $(PKG_LIBS) -ldnnl -lm

ALL_C     := $(wildcard $(addsuffix /*.c,$(STAGES)))
TOOL_SRCS := $(foreach f,$(ALL_C),$(if $(filter tool_%,$(notdir $(f))),$(f)))
MPI_SRCS  := $(filter %_mpi.c,$(ALL_C))
LIB_SRCS  := $(filter-out $(TOOL_SRCS) $(MPI_SRCS),$(ALL_C))
LIB_OBJS  := $(LIB_SRCS:%.c=$(B)/%.o) $(B)/gen/dataset_sql.o
LIB       := $(B)/libsptt.a

# Tools whose main needs MPI are named tool_<name>_mpi.c: built with mpicc.
MPI_TOOL_SRCS := $(filter %_mpi.c,$(foreach f,$(ALL_C),$(if $(filter tool_%,$(notdir $(f))),$(f))))
PLAIN_TOOL_SRCS := $(filter-out $(MPI_TOOL_SRCS),$(TOOL_SRCS))
tool_name = $(subst _,-,$(patsubst tool_%,%,$(basename $(notdir $(1)))))
MPI_LIB_SRCS := $(filter-out $(MPI_TOOL_SRCS),$(MPI_SRCS))
MPI_LIB_OBJS := $(MPI_LIB_SRCS:%.c=$(B)/%.o)
mpi_tool_name = $(subst _,-,$(patsubst tool_%_mpi,%,$(basename $(notdir $(1)))))
TOOLS     := $(foreach f,$(PLAIN_TOOL_SRCS),$(BIN)/sptt-$(call tool_name,$(f))) \
             $(foreach f,$(MPI_TOOL_SRCS),$(BIN)/sptt-$(call mpi_tool_name,$(f)))

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(B)/bench/%)

# Fuzzing: the harnesses link a clang build of the stages the parsers live in, compiled with
# coverage instrumentation and sanitizers into build-fuzz/ (the gcc objects have neither). The
# build defines FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which only makes the pack reader ignore
# its checksums (schemas/pack.c says why). FUZZ_TOOLS: where sptt-synth, sptt-ingest and
# sptt-train are found for the seed corpora.
FUZZ_CC      := clang
FUZZ_B       ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_TOOLS   ?= $(BIN)
FUZZ_STAGES  := common schemas ingest
FUZZ_SRCS    := $(filter-out $(TOOL_SRCS) $(MPI_SRCS),$(wildcard $(addsuffix /*.c,$(FUZZ_STAGES))))
FUZZ_OBJS    := $(FUZZ_SRCS:%.c=$(FUZZ_B)/%.o) $(FUZZ_B)/gen/dataset_sql.o
FUZZ_LIB     := $(FUZZ_B)/libsptt.a
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(FUZZ_B)/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS  := -std=c11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
                -Wno-unknown-pragmas -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
FUZZ_CPPFLAGS = -D_DEFAULT_SOURCE -MMD -MP $(addprefix -I,$(STAGES)) -Itests/fuzz -I$(FUZZ_B)/gen $(PKG_CFLAGS)
FUZZ_SAN     := address,undefined

.PHONY: all deps test check bench demo clean tests-build fuzz fuzz-build cuda cuda-nvcc
.SECONDARY:
.DEFAULT_GOAL := all

all: $(TOOLS)

$(B)/gen/dataset_sql.c $(FUZZ_B)/gen/dataset_sql.c: schemas/dataset.sql
	@mkdir -p $(@D)
	@echo "  GEN $@"; { echo '/* Generated from schemas/dataset.sql by the Makefile; do not edit. */'; \
	   echo 'const char sptt_dataset_sql[] ='; \
	   sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	   echo ';'; } > $@.tmp && mv $@.tmp $@

$(B)/gen/%.o: $(B)/gen/%.c
	@echo "  CC  $<"; $(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC  $<"; $(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# The model's element-wise loops call an inline exp whose range clamp is a float comparison; with
# -fno-trapping-math gcc may if-convert it and vectorise the loops. No value changes (only which
# floating-point exceptions could be raised, which nothing reads); -ffast-math stays off.
# -fno-thread-jumps: jump threading copies the code after that clamp into a branch where x is the
# constant bound, so silu becomes x * 6e-39 there; once if-converted that product runs in every
# lane and is a subnormal for every ordinary x, a microcode assist each (measured: SwiGLU 18 ns
# an element instead of 2, 15% of a training step). Again no value changes.
$(B)/model/%.o: CFLAGS += -fno-trapping-math -fno-thread-jumps
$(CB)/model/stream.o: CFLAGS += -fno-trapping-math -fno-thread-jumps

# MPI code is compiled by mpicc, which adds Open MPI's include and library paths to gcc.
$(B)/%_mpi.o: %_mpi.c
	@mkdir -p $(@D)
	@echo "  MPICC $<"; $(MPICC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	@echo "  AR  $@"; ar rcs $@ $^

define TOOL_RULE
$(BIN)/sptt-$(call tool_name,$(1)): $(B)/$(1:.c=.o) $(LIB)
	@mkdir -p $$(@D)
	@echo "  LD  $$@"; $$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach f,$(PLAIN_TOOL_SRCS),$(eval $(call TOOL_RULE,$(f))))

define MPI_TOOL_RULE
$(BIN)/sptt-$(call mpi_tool_name,$(1)): $(B)/$(1:.c=.o) $(MPI_LIB_OBJS) $(LIB)
	@mkdir -p $$(@D)
	@echo "  LD  $$@"; $$(MPICC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach f,$(MPI_TOOL_SRCS),$(eval $(call MPI_TOOL_RULE,$(f))))

$(B)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	@echo "  CC  $@"; $(CC) $(CPPFLAGS) $(CRIT_CFLAGS) $(CFLAGS) $< $(LIB) $(LDFLAGS) $(CRIT_LIBS) $(LDLIBS) -o $@

$(B)/bench/%: tests/bench/%.c $(LIB)
	@mkdir -p $(@D)
	@echo "  CC  $@"; $(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

tests-build: $(TOOLS) $(UNIT_BINS)

$(FUZZ_B)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC  $@"; $(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c $< -o $@

$(FUZZ_B)/gen/%.o: $(FUZZ_B)/gen/%.c
	@echo "  CC  $@"; $(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	@rm -f $@
	@echo "  AR  $@"; ar rcs $@ $^

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	@echo "  LD  $@"; $(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) $< $(FUZZ_LIB) $(LDLIBS) -o $@

$(FUZZ_B)/corpus_tool: tests/fuzz/corpus_tool.c $(FUZZ_LIB)
	@echo "  LD  $@"; $(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) $< $(FUZZ_LIB) $(LDLIBS) -o $@

# The tools the corpora come from are built here only when they are the default ones in bin/.
fuzz-build: $(FUZZ_BINS) $(FUZZ_B)/corpus_tool $(if $(filter $(BIN),$(FUZZ_TOOLS)),$(TOOLS))

deps:
	@sh tests/deps.sh $(DEB_PKGS)

# ---------------------------------------------------------------------------------------------
# CUDA (make cuda): model/cuda/*.cu with nvcc into build-cuda/libsptt_cuda.a; tests/cuda/*.c
# and the CUDA-enabled trainer with gcc and -DSPTT_CUDA. The binaries link the CUDA runtime
# statically and cuBLAS dynamically, so a machine with the driver and libcublas runs them; NCCL
# is not linked: model/cuda/nccl_cuda.cu opens libnccl.so.2 at run time (where nccl.h was found).
CUDA_HOME ?= /usr/local/cuda
NVCC      ?= $(if $(wildcard $(CUDA_HOME)/bin/nvcc),$(CUDA_HOME)/bin/nvcc,$(shell command -v nvcc 2>/dev/null))
CUDA_ARCH ?= sm_90
CB        := build-cuda
CUDA_BIN  := bin-cuda
CU_SRCS   := $(wildcard model/cuda/*.cu)
CU_OBJS   := $(CU_SRCS:%.cu=$(CB)/%.o)
CU_LIB    := $(CB)/libsptt_cuda.a
NVCCFLAGS := -arch=$(CUDA_ARCH) -O2 -lineinfo -std=c++17 --default-stream per-thread -Xcompiler -Wall,-Wextra,-Werror -Werror all-warnings
CU_CPPFLAGS = $(CPPFLAGS) -Imodel/cuda -DSPTT_CUDA
CU_LDLIBS  = -L$(CUDA_HOME)/lib64 -lcublasLt -lcublas -lcudart_static -lstdc++ -ldl -lrt
# the trainer's, the evaluator's and the stream's translation units rebuilt with -DSPTT_CUDA; the
# rest comes from $(LIB)
CU_TRAIN_OBJS := $(CB)/train/trainer.o $(CB)/train/tool_train_mpi.o
CU_EVAL_OBJS  := $(CB)/runtime/eval.o $(CB)/runtime/tool_eval.o $(CB)/model/stream.o
CU_STREAM_OBJS := $(CB)/model/stream.o $(CB)/runtime/tool_stream.o

cuda: cuda-nvcc
	@$(MAKE) --no-print-directory $(CB)/tests/test_cuda_model $(CB)/tests/test_cuda_stream $(CB)/bench/bench_cuda_model \
	    $(CB)/bench/bench_stream $(CUDA_BIN)/sptt-train $(CUDA_BIN)/sptt-eval $(CUDA_BIN)/sptt-stream

cuda-nvcc:
	@test -n "$(NVCC)" && test -x "$(NVCC)" || { echo "make cuda: nvcc not found (looked in $(CUDA_HOME)/bin and PATH); install the CUDA toolkit or set CUDA_HOME=" >&2; exit 2; }

$(CB)/model/cuda/%.o: model/cuda/%.cu $(wildcard model/cuda/*.cuh model/cuda/*.h) model/sptt_model.h
	@mkdir -p $(@D)
	@echo "  NVCC $<"; $(NVCC) $(NVCCFLAGS) -Icommon -Imodel -Imodel/cuda -c $< -o $@

$(CU_LIB): $(CU_OBJS)
	@rm -f $@
	@echo "  AR  $@"; ar rcs $@ $^

$(CB)/train/trainer.o: train/trainer.c
	@mkdir -p $(@D)
	@echo "  CC  $< (cuda)"; $(CC) $(CU_CPPFLAGS) $(CFLAGS) -c $< -o $@

$(CB)/train/tool_train_mpi.o: train/tool_train_mpi.c
	@mkdir -p $(@D)
	@echo "  MPICC $< (cuda)"; $(MPICC) $(CU_CPPFLAGS) $(CFLAGS) -c $< -o $@

$(CB)/runtime/%.o: runtime/%.c
	@mkdir -p $(@D)
	@echo "  CC  $< (cuda)"; $(CC) $(CU_CPPFLAGS) $(CFLAGS) -c $< -o $@

$(CB)/model/stream.o: model/stream.c model/kern/kern_stream.inc
	@mkdir -p $(@D)
	@echo "  CC  $< (cuda)"; $(CC) $(CU_CPPFLAGS) $(CFLAGS) -c $< -o $@

$(CUDA_BIN)/sptt-stream: $(CU_STREAM_OBJS) $(CU_LIB) $(LIB)
	@mkdir -p $(@D)
	@echo "  LD  $@"; $(CC) $(LDFLAGS) $^ $(LDLIBS) $(CU_LDLIBS) -o $@

$(CUDA_BIN)/sptt-eval: $(CU_EVAL_OBJS) $(CU_LIB) $(LIB)
	@mkdir -p $(@D)
	@echo "  LD  $@"; $(CC) $(LDFLAGS) $^ $(LDLIBS) $(CU_LDLIBS) -o $@

$(CUDA_BIN)/sptt-train: $(CU_TRAIN_OBJS) $(MPI_LIB_OBJS) $(CU_LIB) $(LIB)
	@mkdir -p $(@D)
	@echo "  LD  $@"; $(MPICC) $(LDFLAGS) $^ $(LDLIBS) $(CU_LDLIBS) -o $@

$(CB)/tests/%: tests/cuda/%.c $(CU_LIB) $(LIB)
	@mkdir -p $(@D)
	@echo "  CC  $@"; $(CC) $(CU_CPPFLAGS) -Itests/unit $(CFLAGS) $< $(CU_LIB) $(LIB) $(LDFLAGS) $(LDLIBS) $(CU_LDLIBS) -o $@

# the stream's bench with stream.c's CUDA build: --device cuda
$(CB)/bench/bench_stream: tests/bench/bench_stream.c $(CB)/model/stream.o $(CU_LIB) $(LIB)
	@mkdir -p $(@D)
	@echo "  CC  $@"; $(CC) $(CU_CPPFLAGS) $(CFLAGS) $< $(CB)/model/stream.o $(CU_LIB) $(LIB) $(LDFLAGS) $(LDLIBS) $(CU_LDLIBS) -o $@

$(CB)/bench/%: tests/cuda/%.c $(CU_LIB) $(LIB)
	@mkdir -p $(@D)
	@echo "  CC  $@"; $(CC) $(CU_CPPFLAGS) -Itests/unit $(CFLAGS) $< $(CU_LIB) $(LIB) $(LDFLAGS) $(LDLIBS) $(CU_LDLIBS) -o $@

test: deps
	@$(MAKE) --no-print-directory tests-build
	@sh tests/run.sh "$(B)/tests" "$(BIN)"

check: deps
	@$(MAKE) --no-print-directory SAN=address,undefined tests-build
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  sh tests/run.sh "build-san/tests" "build-san/bin"

bench: deps
	@$(MAKE) --no-print-directory $(TOOLS) $(BENCH_BINS)
	@sh tests/bench.sh "$(B)/bench" "$(BIN)"

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@sh tests/fuzz/make_corpus.sh "$(FUZZ_B)" "$(FUZZ_TOOLS)"
	@sh tests/fuzz/run.sh "$(FUZZ_B)" "$(FUZZ_SECONDS)" "$(FUZZ_JOBS)"

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tests/demo.sh "$(BIN)"

clean:
	rm -rf build build-san build-fuzz bin build-cuda bin-cuda

-include $(shell find $(B) $(FUZZ_B) -name '*.d' 2>/dev/null)
