// ReplicaProgress: the cloud's cursor and holes as the handshake, live and
// backfill paths move them (spec/cloud.md §1.4–§1.8), the reference's
// replication scenarios at the bookkeeping level, and one test per fix of
// §6.2 (P1 cursor stuck, P4 dropped frames counted, P10 lag wrap).
#include "replication/replica_progress.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace lplex::replication {
namespace {

using Ranges = std::vector<SeqRange>;
constexpr uint64_t kMax = UINT64_MAX;

void AcceptLive(ReplicaProgress* p, uint64_t from, uint64_t through) {
  for (uint64_t s = from; s <= through; ++s) p->OnLiveFrameAccepted(s);
}

// An instance that has 1..100 and then sees the boat reconnect at head 200.
ReplicaProgress HadHundredThenReconnectedAt200() {
  ReplicaProgress p;
  p.OnHandshake(100);
  AcceptLive(&p, 1, 100);
  p.OnHandshake(200);
  return p;
}

TEST(ReplicaProgress, NewInstanceGetsCursorZeroNoHoleAndReplayFromSeqOne) {
  ReplicaProgress p;
  const auto reply = p.OnHandshake(1'000'000);
  EXPECT_EQ(reply.cursor, 0u);
  EXPECT_TRUE(reply.holes.empty());  // a large head never makes a hole on a new instance
  EXPECT_EQ(reply.live_start_from, 1u);
}

TEST(ReplicaProgress, LiveFramesInOrderAdvanceTheCursorOneByOne) {
  ReplicaProgress p;
  p.OnHandshake(0);
  for (uint64_t s = 1; s <= 10; ++s) {
    EXPECT_TRUE(p.OnLiveFrameAccepted(s));
    EXPECT_EQ(p.cursor(), s);
  }
  EXPECT_TRUE(p.holes().empty());
}

TEST(ReplicaProgress, ReconnectWithAHigherHeadOpensTheHoleBelowIt) {
  ReplicaProgress p;
  p.OnHandshake(1);
  AcceptLive(&p, 1, 100);
  const auto reply = p.OnHandshake(200);
  EXPECT_EQ(reply.cursor, 100u);
  EXPECT_EQ(reply.holes, (Ranges{{101, 200}}));  // 200 itself comes on the live stream
  EXPECT_EQ(reply.live_start_from, 200u);
}

TEST(ReplicaProgress, BackfillBlockAcksThroughItsEndAndReportsTheRest) {
  ReplicaProgress p = HadHundredThenReconnectedAt200();
  EXPECT_TRUE(p.OnBackfillBlockWritten(101, 151));
  EXPECT_EQ(p.cursor(), 150u);
  EXPECT_EQ(p.holes().Holes(), (Ranges{{151, 200}}));
}

// P1: the reference sets the cursor to the last *reported* boat head when the
// last hole closes, which is older than what live has delivered meanwhile;
// the live path (seq == cursor+1 only) then never moves it again.
TEST(ReplicaProgress, CursorAdvancesPastAFilledHoleInsteadOfSticking) {
  ReplicaProgress p = HadHundredThenReconnectedAt200();
  AcceptLive(&p, 200, 260);  // live runs while the hole is open
  EXPECT_EQ(p.cursor(), 100u);
  p.OnBackfillBlockWritten(150, 200);  // newest part of the hole first, as the boat sends it
  EXPECT_EQ(p.cursor(), 100u);
  p.OnBackfillBlockWritten(101, 150);
  EXPECT_EQ(p.cursor(), 260u);  // everything live accepted, not a stale head like 220
  EXPECT_TRUE(p.OnLiveFrameAccepted(261));
  EXPECT_EQ(p.cursor(), 261u);  // and live keeps moving it
}

// P1 follow-up: a reconnect asks only for what the cloud never saw. The
// reference opens [cursor+1, head) and makes the boat resend live frames the
// cloud already holds.
TEST(ReplicaProgress, ReconnectDoesNotAskAgainForFramesLiveAlreadyDelivered) {
  ReplicaProgress p = HadHundredThenReconnectedAt200();
  AcceptLive(&p, 200, 300);
  const auto reply = p.OnHandshake(400);
  EXPECT_EQ(reply.cursor, 100u);
  EXPECT_EQ(reply.holes, (Ranges{{101, 200}, {301, 400}}));
}

TEST(ReplicaProgress, CursorNeverMovesBackwardsOnAStaleRange) {
  ReplicaProgress p;
  p.OnHandshake(1);
  AcceptLive(&p, 1, 500);
  ASSERT_EQ(p.cursor(), 500u);
  EXPECT_FALSE(p.OnLiveFrameAccepted(10));         // an old live frame
  EXPECT_FALSE(p.OnBackfillBlockWritten(1, 400));  // an old backfill block
  const auto reply = p.OnHandshake(300);           // a head below what was seen
  EXPECT_EQ(reply.cursor, 500u);
  EXPECT_TRUE(reply.holes.empty());
  EXPECT_EQ(p.cursor(), 500u);
  EXPECT_TRUE(p.holes().empty());
}

// P4: the reference advances the cursor for a frame even when the replica
// broker's full queue dropped it, so the cloud acks a seq it does not have.
TEST(ReplicaProgress, DroppedFramesAreNotCountedAsReceived) {
  ReplicaProgress p;
  p.OnHandshake(1);
  AcceptLive(&p, 1, 10);
  // 11 was dropped: the journal never reports it written.
  EXPECT_EQ(p.cursor(), 10u);
  AcceptLive(&p, 12, 20);
  EXPECT_EQ(p.cursor(), 10u);  // stuck below the dropped frame, honestly
  EXPECT_EQ(p.holes().Holes(), (Ranges{{11, 12}}));
  const auto reply = p.OnHandshake(21);  // the next session asks for it
  EXPECT_EQ(reply.holes, (Ranges{{11, 12}}));
  p.OnBackfillBlockWritten(1, 50);  // a whole block around it
  EXPECT_EQ(p.cursor(), 20u);
}

TEST(ReplicaProgress, UnreportedLiveGapBecomesAHole) {
  ReplicaProgress p;
  p.OnHandshake(1);
  AcceptLive(&p, 1, 10);
  EXPECT_FALSE(p.OnLiveFrameAccepted(15));  // 11..14 never accepted (dropped, never reported)
  EXPECT_EQ(p.cursor(), 10u);
  EXPECT_EQ(p.holes().Holes(), (Ranges{{11, 15}}));
}

TEST(ReplicaProgress, ReportsOutOfOrderEndWithTheSameCursor) {
  ReplicaProgress p;
  p.OnHandshake(1);
  p.OnLiveFrameAccepted(1);
  p.OnLiveFrameAccepted(3);  // 2 reported late (a journal that confirms out of order)
  EXPECT_EQ(p.cursor(), 1u);
  EXPECT_TRUE(p.OnLiveFrameAccepted(2));
  EXPECT_EQ(p.cursor(), 3u);
  EXPECT_TRUE(p.holes().empty());
}

// A boat that no longer has seq 1 (ours clamps the live start to its oldest
// seq, P3) must not leave a new instance at cursor 0 forever.
TEST(ReplicaProgress, NewInstanceWhoseBoatLacksSeqOneStartsAtItsFirstFrame) {
  ReplicaProgress p;
  p.OnHandshake(90'000);
  EXPECT_TRUE(p.OnLiveFrameAccepted(50'000));
  EXPECT_EQ(p.cursor(), 50'000u);
  EXPECT_TRUE(p.holes().empty());  // nothing below the first frame is owed
  p.OnLiveFrameAccepted(50'001);
  EXPECT_EQ(p.cursor(), 50'001u);
}

TEST(ReplicaProgress, DroppedFirstFrameOfANewInstanceIsStillOwed) {
  ReplicaProgress p;
  p.OnHandshake(10);
  p.OnFirstLiveFrame(1);  // arrived, then dropped: never written
  AcceptLive(&p, 2, 5);
  EXPECT_EQ(p.cursor(), 0u);
  EXPECT_EQ(p.holes().Holes(), (Ranges{{1, 2}}));
  EXPECT_EQ(p.OnHandshake(6).holes, (Ranges{{1, 2}}));
  p.OnBackfillBlockWritten(1, 2);
  EXPECT_EQ(p.cursor(), 5u);
}

TEST(ReplicaProgress, SnapshotFramesAtSeqZeroAreIgnored) {
  ReplicaProgress p;
  p.OnHandshake(0);
  EXPECT_FALSE(p.OnLiveFrameAccepted(0));
  p.OnFirstLiveFrame(0);
  EXPECT_EQ(p.seen_through(), 0u);  // still a new instance: seq 1 is its origin
  p.OnLiveFrameAccepted(1);
  EXPECT_EQ(p.cursor(), 1u);
}

TEST(ReplicaProgress, SeqsAtTheTopOfTheSpaceNeitherWrapNorCrash) {
  ReplicaProgress p;
  p.OnHandshake(1);
  p.OnLiveFrameAccepted(1);
  const auto reply = p.OnHandshake(kMax);
  EXPECT_EQ(reply.holes, (Ranges{{2, kMax}}));
  EXPECT_EQ(p.seen_through(), kMax - 1);
  EXPECT_FALSE(p.OnLiveFrameAccepted(kMax));  // not representable: ignored
  EXPECT_TRUE(p.OnBackfillBlockWritten(0, kMax));
  EXPECT_EQ(p.cursor(), kMax - 1);
  EXPECT_TRUE(p.holes().empty());
}

TEST(ReplicaProgress, BackfillAboveWhatWasSeenIsNotCounted) {
  ReplicaProgress p = HadHundredThenReconnectedAt200();
  EXPECT_TRUE(p.OnBackfillBlockWritten(101, 300));  // a whole block reaching past seen_through
  EXPECT_EQ(p.cursor(), 199u);                      // not 299: 200..299 were not accounted for
  EXPECT_EQ(p.seen_through(), 199u);
}

TEST(ReplicaProgress, EmptyAndInvertedBackfillRangesChangeNothing) {
  ReplicaProgress p = HadHundredThenReconnectedAt200();
  EXPECT_FALSE(p.OnBackfillBlockWritten(150, 150));
  EXPECT_FALSE(p.OnBackfillBlockWritten(180, 120));
  EXPECT_EQ(p.holes().Holes(), (Ranges{{101, 200}}));
}

// A boat whose frames the cloud drops every other one would grow one hole
// per frame; the tracker coarsens instead, keeping every missing seq.
TEST(ReplicaProgress, HolesBeyondTheCapAreCoarsenedNotForgotten) {
  ReplicaProgress p;
  p.OnHandshake(1);
  p.OnLiveFrameAccepted(1);
  const uint64_t n = 3 * ReplicaProgress::kMaxHoles;
  for (uint64_t i = 0; i < n; ++i) {
    p.OnLiveFrameAccepted(3 + 2 * i);  // 2 + 2i was dropped: never written
  }
  EXPECT_LE(p.holes().Len(), ReplicaProgress::kMaxHoles);
  EXPECT_EQ(p.cursor(), 1u);
  for (uint64_t i = 0; i < n; ++i) ASSERT_TRUE(p.holes().Contains(2 + 2 * i)) << 2 + 2 * i;
}

TEST(ReplicaProgress, RestoreOfAReferenceStateDerivesWhatWasSeenFromTheHoles) {
  // The Go cloud writes no seen_through: cursor 100 and the hole [101,200).
  ReplicaProgress p = ReplicaProgress::Restore(100, 0, {{101, 200}});
  EXPECT_EQ(p.cursor(), 100u);
  EXPECT_EQ(p.seen_through(), 199u);
  EXPECT_EQ(p.OnHandshake(250).holes, (Ranges{{101, 250}}));
}

TEST(ReplicaProgress, RestoreKeepsAStoredCursorThatAHoleContradicts) {
  // A reference file can hold a hole below its cursor (a boat whose seq
  // restarted pushed the cursor through it): the cursor stays, the hole is
  // still offered for backfill.
  ReplicaProgress p = ReplicaProgress::Restore(300, 0, {{101, 200}, {250, 250}, {5, 1}});
  EXPECT_EQ(p.cursor(), 300u);
  EXPECT_EQ(p.holes().Holes(), (Ranges{{101, 200}}));
  EXPECT_EQ(p.OnHandshake(301).holes, (Ranges{{101, 200}}));
  AcceptLive(&p, 301, 310);
  EXPECT_EQ(p.cursor(), 300u);  // not backwards, and not forward past the hole either
  p.OnBackfillBlockWritten(101, 200);
  EXPECT_EQ(p.cursor(), 310u);
}

TEST(ReplicaProgress, LagIsTheDistanceToTheReportedHead) {
  EXPECT_EQ(LagSeqs(200, 100), 100u);
  EXPECT_EQ(LagSeqs(0, 0), 0u);
}

// P10: live can push the cursor past the last head the boat reported; the
// reference's unsigned subtraction then shows a lag of ~1.8e19.
TEST(ReplicaProgress, LagIsZeroWhenTheCursorIsPastTheReportedHead) {
  EXPECT_EQ(LagSeqs(100, 150), 0u);
  EXPECT_EQ(LagSeqs(0, kMax), 0u);
}

// Whatever the order and mix of reports, the cursor never claims a seq the
// cloud does not hold, never forgets a missing seq below seen_through, never
// moves back, and reaches seen_through once every hole is backfilled.
TEST(ReplicaProgress, RandomReportsNeverClaimAMissingSeqNorMoveTheCursorBack) {
  constexpr uint64_t kSpace = 160;
  std::mt19937_64 rng(88);
  for (int round = 0; round < 300; ++round) {
    ReplicaProgress p;
    std::set<uint64_t> held;
    uint64_t origin = 0;  // seqs <= origin are not owed
    bool started = false;
    uint64_t last_cursor = 0;
    for (int op = 0; op < 80; ++op) {
      const uint64_t near = p.seen_through() + 1 + rng() % 4;
      const uint64_t seq = rng() % 3 == 0 ? rng() % kSpace : near;
      switch (rng() % 4) {
        case 0:
          p.OnHandshake(rng() % 3 == 0 ? rng() % kSpace : near + rng() % 20);
          break;
        case 1:
          if (!started && seq != 0) {
            started = true;
            origin = seq - 1;
          }
          p.OnLiveFrameAccepted(seq);
          if (seq != 0) held.insert(seq);
          break;
        case 2:  // a stream's first frame arrives (and may never be written)
          if (!started && seq != 0) {
            started = true;
            origin = seq - 1;
          }
          p.OnFirstLiveFrame(seq);
          break;
        default: {
          const uint64_t a = rng() % kSpace;
          const uint64_t b = a + rng() % 30;
          p.OnBackfillBlockWritten(a, b);
          for (uint64_t s = a; s < b; ++s) held.insert(s);
        }
      }
      ASSERT_GE(p.cursor(), last_cursor) << "round " << round << " op " << op;
      last_cursor = p.cursor();
      for (uint64_t s = origin + 1; s <= p.cursor(); ++s) {
        ASSERT_TRUE(held.count(s)) << "cursor " << p.cursor() << " claims missing seq " << s << ", round " << round;
      }
      for (uint64_t s = origin + 1; s <= p.seen_through(); ++s) {
        ASSERT_TRUE(held.count(s) || p.holes().Contains(s)) << "missing seq " << s << " forgotten, round " << round;
      }
    }
    for (const SeqRange& h : p.holes().Holes()) p.OnBackfillBlockWritten(h.start, h.end);
    ASSERT_EQ(p.cursor(), p.seen_through()) << "round " << round;
  }
}

// A cloud crash must not lose acknowledged frames: live seqs count only once
// the journal wrote them, and a first frame that never got written still
// fixes the origin so that it is owed.
TEST(ReplicaProgress, FirstFrameOfANewInstanceFixesTheOriginBeforeItIsWritten) {
  ReplicaProgress p;
  p.OnHandshake(500);
  p.OnFirstLiveFrame(400);  // the boat's oldest seq
  EXPECT_EQ(p.cursor(), 399u);
  EXPECT_EQ(p.seen_through(), 399u);
  // The stream ends before anything reached the journal; the boat is back at 900.
  const auto reply = p.OnHandshake(900);
  EXPECT_EQ(reply.holes, (Ranges{{400, 900}}));
  EXPECT_EQ(reply.live_start_from, 900u);
}

TEST(ReplicaProgress, FirstFrameAtSeqOneIsOwedEvenThoughSeenThroughStaysZero) {
  ReplicaProgress p;
  p.OnHandshake(1);
  p.OnFirstLiveFrame(1);
  EXPECT_EQ(p.seen_through(), 0u);
  EXPECT_EQ(p.OnHandshake(50).holes, (Ranges{{1, 50}}));
}

TEST(ReplicaProgress, FirstLiveFrameOfALaterStreamChangesNothing) {
  ReplicaProgress p;
  p.OnHandshake(1);
  AcceptLive(&p, 1, 10);
  p.OnFirstLiveFrame(30);
  EXPECT_EQ(p.seen_through(), 10u);
  EXPECT_EQ(p.cursor(), 10u);
  EXPECT_TRUE(p.holes().empty());
}

TEST(ReplicaProgress, WrittenRunsFillHolesAndOpenTheGapBeforeThem) {
  ReplicaProgress p;
  p.OnHandshake(1);
  EXPECT_TRUE(p.OnLiveSeqsWritten(1, 101));
  EXPECT_EQ(p.cursor(), 100u);
  EXPECT_FALSE(p.OnLiveSeqsWritten(151, 201));  // 101..150 never written
  EXPECT_EQ(p.holes().Holes(), (Ranges{{101, 151}}));
  EXPECT_EQ(p.seen_through(), 200u);
  EXPECT_FALSE(p.OnLiveSeqsWritten(120, 131));  // written late: fills the middle
  EXPECT_EQ(p.holes().Holes(), (Ranges{{101, 120}, {131, 151}}));
  EXPECT_TRUE(p.OnLiveSeqsWritten(95, 160));  // straddles seen ranges and both holes
  EXPECT_TRUE(p.holes().empty());
  EXPECT_EQ(p.cursor(), 200u);
}

TEST(ReplicaProgress, WrittenRunsOfSeqZeroOrInvertedChangeNothing) {
  ReplicaProgress p;
  p.OnHandshake(1);
  EXPECT_FALSE(p.OnLiveSeqsWritten(0, 0));
  EXPECT_FALSE(p.OnLiveSeqsWritten(10, 5));
  EXPECT_EQ(p.seen_through(), 0u);
  EXPECT_TRUE(p.OnLiveSeqsWritten(0, 3));  // seq 0 is not the boat's; 1..2 are
  EXPECT_EQ(p.cursor(), 2u);
}

TEST(ReplicaProgress, UnavailableSeqsDropOnlyHolesAndLetTheCursorPass) {
  ReplicaProgress p;
  p.OnHandshake(1);
  AcceptLive(&p, 1, 10);
  AcceptLive(&p, 20, 30);  // hole 11..19
  AcceptLive(&p, 40, 50);  // hole 31..39
  EXPECT_EQ(p.OnSeqsUnavailable(5, 16), 5u);  // 11..15 of the first hole; 5..10 were held
  EXPECT_EQ(p.holes().Holes(), (Ranges{{16, 20}, {31, 40}}));
  EXPECT_EQ(p.cursor(), 15u) << "11..15 are no longer owed";
  EXPECT_EQ(p.OnSeqsUnavailable(16, 20), 4u);
  EXPECT_EQ(p.cursor(), 30u);
  EXPECT_EQ(p.OnSeqsUnavailable(100, 200), 0u) << "not a hole: nothing to drop";
}

}  // namespace
}  // namespace lplex::replication
