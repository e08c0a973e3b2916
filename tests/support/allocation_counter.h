// Counts heap allocations made by the current thread while an
// AllocationCounter is alive, for "no allocation per frame" tests.
//
// This header replaces the global operator new/delete, so include it from
// exactly ONE .cc file per test binary. Under sanitizers (which bring their
// own operator new) nothing is replaced and kCountsAllocations is false:
// tests should GTEST_SKIP then.
#pragma once

#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LPLEX_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define LPLEX_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef LPLEX_COUNT_ALLOCATIONS
#define LPLEX_COUNT_ALLOCATIONS 1
#endif

namespace lplex::testing {

inline thread_local bool t_allocations_armed = false;
inline thread_local long t_allocations = 0;

inline constexpr bool kCountsAllocations = LPLEX_COUNT_ALLOCATIONS != 0;

class AllocationCounter {
 public:
  AllocationCounter() {
    t_allocations = 0;
    t_allocations_armed = true;
  }
  ~AllocationCounter() { t_allocations_armed = false; }
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;
  long count() const { return t_allocations; }
};

}  // namespace lplex::testing

#if LPLEX_COUNT_ALLOCATIONS
void* operator new(std::size_t n) {
  if (lplex::testing::t_allocations_armed) ++lplex::testing::t_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif
