// SubscriberQueue: bounded fan-out queue of one ephemeral subscriber, and its
// wake-only mode (a session stream's wake-up).
#include "broker/queues.h"

#include <gtest/gtest.h>

#include <vector>

namespace lplex::broker {
namespace {

JsonRef Msg(const char* text) { return JsonRef::Make(text); }

TEST(SubscriberQueue, FullQueueDropsAndCountsWithoutBlocking) {
  int wakes = 0;
  SubscriberQueue q({}, 2, [&] { ++wakes; });
  EXPECT_TRUE(q.Push(Msg("a")));
  EXPECT_TRUE(q.Push(Msg("b")));
  EXPECT_FALSE(q.Push(Msg("c")));
  EXPECT_EQ(q.dropped(), 1u);
  EXPECT_EQ(wakes, 1) << "on_ready fires when the queue goes from empty to non-empty only";
}

TEST(SubscriberQueue, TryPopManyTakesTheOldestInOrderUpToMax) {
  SubscriberQueue q({}, 8, {});
  for (const char* m : {"1", "2", "3", "4", "5"}) ASSERT_TRUE(q.Push(Msg(m)));
  std::vector<JsonRef> out;
  EXPECT_EQ(q.TryPopMany(&out, 3), 3u);
  EXPECT_EQ(q.TryPopMany(&out, 3), 2u);
  EXPECT_EQ(q.TryPopMany(&out, 3), 0u);
  ASSERT_EQ(out.size(), 5u);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].view(), std::to_string(i + 1));
}

TEST(SubscriberQueue, WakeOnlyKeepsNothingNeverDropsAndWakesOncePerRearm) {
  int wakes = 0;
  SubscriberQueue q({}, 2, [&] { ++wakes; });
  q.SetWakeOnly();
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(q.Push(Msg("x")));
  EXPECT_EQ(q.dropped(), 0u) << "a wake-up subscriber loses nothing a client could miss";
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(wakes, 1) << "one wake-up until the reader re-arms";
  JsonRef m;
  EXPECT_FALSE(q.TryPop(&m));  // re-arms
  EXPECT_TRUE(q.Push(Msg("y")));
  EXPECT_TRUE(q.Push(Msg("z")));
  EXPECT_EQ(wakes, 2);
}

TEST(SubscriberQueue, WakeOnlyStillHandsOutWhatWasQueuedBeforeTheSwitch) {
  SubscriberQueue q({}, 4, {});
  ASSERT_TRUE(q.Push(Msg("early")));
  q.SetWakeOnly();
  JsonRef m;
  ASSERT_TRUE(q.TryPop(&m));
  EXPECT_EQ(m.view(), "early");
  EXPECT_FALSE(q.TryPop(&m));
}

}  // namespace
}  // namespace lplex::broker
