#include "core/thread_name.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <string>
#include <thread>

namespace lplex {
namespace {

std::string NameOfThisThread() {
  char buf[64] = {};
  pthread_getname_np(pthread_self(), buf, sizeof buf);
  return buf;
}

TEST(ThreadName, ThreadShowsTheNameItWasGiven) {
  std::string seen;
  std::thread t([&] {
    SetCurrentThreadName("lplex-http");
    seen = NameOfThisThread();
  });
  t.join();
  EXPECT_EQ(seen, "lplex-http");
}

// Linux keeps 15 bytes; a longer name (a source URI) is cut, not refused.
TEST(ThreadName, NameLongerThanFifteenBytesIsCutNotRefused) {
  std::string seen;
  std::thread t([&] {
    SetCurrentThreadName("lplex-src-replay:/very/long/path.pcap");
    seen = NameOfThisThread();
  });
  t.join();
  EXPECT_EQ(seen, "lplex-src-repla");
}

}  // namespace
}  // namespace lplex
