# The two commands (README): `make run` and `make check`. Everything else is a helper.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
RUN_DIR ?= var

.PHONY: all bootstrap build run check test unit e2e asan browser bench chaos many-nodes fuzz clean

all: build

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# Starts meetlink on SQLite with the sandbox, printing the dashboard URL and an API key.
run: build
	@scripts/run.sh $(BUILD)/meetlink $(RUN_DIR)

# Every test: unit + end-to-end on the normal build, then all of it again under ASan+UBSan.
check:
	@scripts/bootstrap.sh check
	@scripts/check.sh

# libFuzzer harnesses (tests/fuzz, docs/fuzzing.md), built with clang into build-fuzz and run
# FUZZ_SECONDS each, one after the other, at nice 19. `make check` replays their corpora.
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/bootstrap.sh fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_HARNESSES)

bench:
	@scripts/bootstrap.sh bench
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	@bench/run.sh $(BUILD)
	@bench/pipeline.sh $(BUILD)
	@echo
	@bench/pg_bench.sh $(BUILD)
	@echo
	@bench/sandbox_bench.sh $(BUILD) || echo "sandbox bench: below its floor (see above)"
	@echo
	@bench/waiting.sh $(BUILD) || echo "waiting room bench: below its floor (see above)"

# Not a test (never in `make check`): 20,000 bookings through faults while the daemon is
# SIGKILLed every 2-5 s, then every meeting, mail and webhook counted (bench/README.md, "Chaos").
chaos:
	@scripts/bootstrap.sh chaos
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	@bench/chaos.sh $(BUILD)

# Not a test either: three daemons on one PostgreSQL database, 5,000 Google Meet bookings under
# faults, one node SIGKILLed and another restarted mid-run, then everything counted
# (bench/README.md, "Many nodes").
many-nodes:
	@scripts/bootstrap.sh chaos
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	@bench/many_nodes.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
