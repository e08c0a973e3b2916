# Entry points. Every target that builds first installs what it needs
# (scripts/install-deps.sh is idempotent and quick when nothing is missing).
.PHONY: deps build test test-asan test-tsan fuzz-smoke bench clean demo

BUILD      ?= build/release
ASAN_BUILD ?= build/asan
TSAN_BUILD ?= build/tsan
FUZZ_BUILD ?= build/fuzz
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 30

deps:
	bash scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-asan
	$(MAKE) fuzz-smoke

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLPLEX_SANITIZE=address,undefined
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0 \
	  ctest --output-on-failure -j $(JOBS) -LE slow

test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLPLEX_SANITIZE=thread
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	cd $(TSAN_BUILD) && ctest --output-on-failure -j $(JOBS) -LE 'slow|grpc'  # grpc: tests/CMakeLists.txt

# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS.
fuzz-smoke: deps
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++-14 -DLPLEX_FUZZ=ON -DLPLEX_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_targets
	bash fuzz/run-smoke.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build
	bash bench/run.sh $(BUILD)

# lplex-server on a simulated boat (DEMO_SOURCE=... for another source):
# journal in ./demo-data/journal, archive in ./demo-data/archive (or S3 with
# DEMO_S3_BUCKET and AWS_* set), a live status line; Ctrl-C stops it cleanly.
demo: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target lplex-server
	bash apps/lplex-server/demo.sh $(BUILD)

clean:
	rm -rf build
