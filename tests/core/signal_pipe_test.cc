#include "core/signal_pipe.h"

#include "core/log.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
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

TEST(SignalPipe, StopThatFinishesReturnsWithoutCancelling) {
  SignalPipe signals;
  RecordingLogger log;
  bool stopped = false;
  bool cancelled = false;
  StopHearingASecondSignal(
      signals, &log, [&] { stopped = true; }, [&] { cancelled = true; });
  EXPECT_TRUE(stopped);
  EXPECT_FALSE(cancelled);
}

// A second SIGTERM while the shutdown hangs cancels the archiver and exits
// 130 within its 1.5 s, instead of waiting for the shutdown.
TEST(SignalPipeDeathTest, SecondSignalDuringAHungShutdownCancelsAndExits130) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        SignalPipe signals;
        RecordingLogger log;
        std::atomic<bool> release{false};
        std::thread signaller([] {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          ::kill(::getpid(), SIGTERM);
        });
        signaller.detach();
        StopHearingASecondSignal(
            signals, &log,
            [&] {
              while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
            },
            [&] { std::fputs("cancelled\n", stderr); });
      },
      ::testing::ExitedWithCode(130), "cancelled");
}

}  // namespace
}  // namespace lplex
