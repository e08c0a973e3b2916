#include "core/signal_pipe.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

namespace lplex {
namespace {

using std::chrono::milliseconds;

TEST(SignalPipe, SigtermReachesWaitAsItsNumber) {
  SignalPipe pipe;
  ASSERT_EQ(::raise(SIGTERM), 0);  // caught: the test process lives on
  EXPECT_EQ(pipe.Wait(milliseconds(1000)), SIGTERM);
  EXPECT_EQ(pipe.Wait(milliseconds(0)), 0) << "one signal, one wake-up";
}

TEST(SignalPipe, WakeFromAnotherThreadEndsTheWait) {
  SignalPipe pipe;
  std::thread t([] { EXPECT_TRUE(SignalPipe::Wake(0xFE)); });
  EXPECT_EQ(pipe.Wait(milliseconds(5000)), 0xFE);
  t.join();
}

TEST(SignalPipe, WakeWithoutAPipeSaysSoAndPreviousHandlerComesBack) {
  EXPECT_FALSE(SignalPipe::Wake(1));
  struct sigaction before {};
  ::sigaction(SIGINT, nullptr, &before);
  { SignalPipe pipe; }
  struct sigaction after {};
  ::sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

}  // namespace
}  // namespace lplex
