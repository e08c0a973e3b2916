// state.json: the reference's persist/reload and missing-file behaviour
// (spec/cloud.md §1.10, §5), compatibility with files the Go cloud wrote,
// the atomic write (temp, fsync, rename, fsync dir) under injected faults,
// refusal of damaged files, and instance ids that must never become paths.
#include "replication/instance_state.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/file_system.h"
#include "core/time.h"
#include "support/file_text.h"
#include "support/forwarding_file_system.h"
#include "support/temp_dir.h"

namespace lplex::replication {
namespace {

using Ranges = std::vector<SeqRange>;
using lplex::testing::ReadAll;
using lplex::testing::TempDir;

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// {tmp}/instances/{id}, created.
std::string MakeInstanceDir(const TempDir& tmp, const std::string& id) {
  Result<std::string> dir = InstanceDirFor(tmp.path(), id);
  EXPECT_TRUE(dir.ok()) << dir.status().ToString();
  std::filesystem::create_directories(*dir);
  return *dir;
}

InstanceState Sample(const std::string& id) {
  InstanceState st;
  st.id = id;
  st.cursor = 500;
  st.seen_through = 900;
  st.holes = {{501, 600}, {700, 800}};
  st.boat_head_seq = 950;
  st.boat_journal_bytes = 123456789;
  st.last_seen_us = 1772460000123456;  // 2026-03-02T14:00:00.123456Z
  return st;
}

void ExpectSameState(const InstanceState& got, const InstanceState& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.cursor, want.cursor);
  EXPECT_EQ(got.seen_through, want.seen_through);
  EXPECT_EQ(got.holes, want.holes);
  EXPECT_EQ(got.boat_head_seq, want.boat_head_seq);
  EXPECT_EQ(got.boat_journal_bytes, want.boat_journal_bytes);
  EXPECT_EQ(got.last_seen_us, want.last_seen_us);
}

// Fails RenameFile (and counts the calls it saw) so the write can be caught
// after the temp file is complete but before it replaces state.json.
class RenameFailingFileSystem : public lplex::testing::ForwardingFileSystem {
 public:
  Status RenameFile(const std::string& a, const std::string& b) override {
    ++renames;
    if (fail_rename) return Status::FromErrno("rename " + a, EIO);
    return base()->RenameFile(a, b);
  }
  Status SyncDir(const std::string& p) override {
    ++dir_syncs;
    if (fail_dir_sync) return Status::FromErrno("fsync " + p, EIO);
    return base()->SyncDir(p);
  }
  bool fail_rename = false;
  bool fail_dir_sync = false;
  int renames = 0;
  int dir_syncs = 0;
};

TEST(InstanceState, SavedStateReloadsWithCursorHeadAndExactHoles) {
  TempDir tmp;
  const std::string dir = MakeInstanceDir(tmp, "boat-001");
  ASSERT_TRUE(SaveInstanceState(dir, Sample("boat-001")).ok());
  Result<InstanceState> back = LoadInstanceState(dir, "boat-001");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameState(*back, Sample("boat-001"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/state.json.tmp"));
}

TEST(InstanceState, ProgressSurvivesASaveAndReload) {
  TempDir tmp;
  const std::string dir = MakeInstanceDir(tmp, "boat-001");
  ReplicaProgress p;
  p.OnHandshake(1);
  for (uint64_t s = 1; s <= 100; ++s) p.OnLiveFrameAccepted(s);
  p.OnHandshake(200);
  for (uint64_t s = 200; s <= 260; ++s) p.OnLiveFrameAccepted(s);
  InstanceState st;
  st.id = "boat-001";
  st.SetProgress(p);
  ASSERT_TRUE(SaveInstanceState(dir, st).ok());
  Result<InstanceState> back = LoadInstanceState(dir, "boat-001");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ReplicaProgress q = back->Progress();
  EXPECT_EQ(q.cursor(), 100u);
  EXPECT_EQ(q.seen_through(), 260u);
  EXPECT_EQ(q.holes().Holes(), (Ranges{{101, 200}}));
  q.OnBackfillBlockWritten(101, 200);  // after a restart the cursor still reaches what live delivered
  EXPECT_EQ(q.cursor(), 260u);
}

TEST(InstanceState, FileUsesTheReferenceKeysInItsOrder) {
  const std::string text = EncodeInstanceState(Sample("boat-001"));
  EXPECT_EQ(text,
            "{\n"
            "  \"id\": \"boat-001\",\n"
            "  \"cursor\": 500,\n"
            "  \"holes\": [\n"
            "    {\n"
            "      \"Start\": 501,\n"
            "      \"End\": 600\n"
            "    },\n"
            "    {\n"
            "      \"Start\": 700,\n"
            "      \"End\": 800\n"
            "    }\n"
            "  ],\n"
            "  \"boat_head_seq\": 950,\n"
            "  \"boat_journal_bytes\": 123456789,\n"
            "  \"last_seen\": \"2026-03-02T14:00:00.123456Z\",\n"
            "  \"seen_through\": 900\n"
            "}\n");
}

TEST(InstanceState, NoHolesAndNeverSeenWriteNoHolesKeyAndTheGoZeroTime) {
  InstanceState st;
  st.id = "b";
  const auto j = nlohmann::json::parse(EncodeInstanceState(st));
  EXPECT_FALSE(j.contains("holes"));
  EXPECT_EQ(j["last_seen"], "0001-01-01T00:00:00Z");
  Result<InstanceState> back = DecodeInstanceState(EncodeInstanceState(st), "x/state.json", "b");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE(back->last_seen_us.has_value());
}

TEST(InstanceState, MissingStateFileLoadsAsAFreshInstance) {
  TempDir tmp;
  const std::string dir = MakeInstanceDir(tmp, "orphan");
  WriteText(dir + "/state.json.tmp", "{\"id\":\"orphan\",\"cursor\":");  // a crash mid-write: ignored
  Result<InstanceState> st = LoadInstanceState(dir, "orphan");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->id, "orphan");
  EXPECT_EQ(st->cursor, 0u);
  EXPECT_TRUE(st->holes.empty());
}

TEST(InstanceState, FileWrittenByTheGoCloudLoads) {
  TempDir tmp;
  const std::string dir = MakeInstanceDir(tmp, "boat-001");
  WriteText(dir + "/state.json", R"({
  "id": "boat-001",
  "cursor": 100,
  "holes": [
    {
      "Start": 101,
      "End": 200
    }
  ],
  "boat_head_seq": 200,
  "boat_journal_bytes": 4096,
  "last_seen": "2026-03-02T15:00:00.123456789+01:00"
})");
  Result<InstanceState> st = LoadInstanceState(dir, "boat-001");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->cursor, 100u);
  EXPECT_EQ(st->holes, (Ranges{{101, 200}}));
  EXPECT_EQ(st->boat_head_seq, 200u);
  EXPECT_EQ(st->boat_journal_bytes, 4096u);
  EXPECT_EQ(st->last_seen_us, timefmt::ParseRfc3339("2026-03-02T14:00:00.123456Z"));
  const ReplicaProgress p = st->Progress();
  EXPECT_EQ(p.cursor(), 100u);
  EXPECT_EQ(p.seen_through(), 199u);  // derived: the file has no seen_through
}

TEST(InstanceState, KeysMatchWithoutRegardToCaseAsGoReadsThem) {
  Result<InstanceState> st = DecodeInstanceState(
      R"({"ID":"b","Cursor":7,"Holes":[{"start":10,"end":20}],"Boat_Head_Seq":30,"future_key":true})",
      "d/state.json", "b");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->cursor, 7u);
  EXPECT_EQ(st->holes, (Ranges{{10, 20}}));
  EXPECT_EQ(st->boat_head_seq, 30u);
}

TEST(InstanceState, EmptyInvertedAndOverlappingSavedHolesAreRebuiltAsAddWould) {
  Result<InstanceState> st = DecodeInstanceState(
      R"({"cursor":1,"holes":[{"Start":30,"End":40},{"Start":5,"End":5},{"Start":9,"End":2},{"Start":35,"End":50}]})",
      "d/state.json", "b");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->holes, (Ranges{{30, 50}}));
}

TEST(InstanceState, LargestSeqsSurviveTheRoundTrip) {
  InstanceState st = Sample("b");
  st.cursor = UINT64_MAX - 1;
  st.seen_through = UINT64_MAX - 1;
  st.boat_head_seq = UINT64_MAX;
  st.holes = {{UINT64_MAX - 3, UINT64_MAX}};
  Result<InstanceState> back = DecodeInstanceState(EncodeInstanceState(st), "d/state.json", "b");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameState(*back, st);
}

TEST(InstanceState, CorruptStateJsonIsRefusedNamingTheFile) {
  TempDir tmp;
  const std::string dir = MakeInstanceDir(tmp, "boat-001");
  const std::string path = dir + "/state.json";
  WriteText(path, "{\"id\":\"boat-001\",\"cursor\":12@34}");
  Result<InstanceState> st = LoadInstanceState(dir, "boat-001");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.status().IsCorruption());
  EXPECT_NE(st.status().message().find(path + ": damaged instance state (not valid JSON"), std::string::npos)
      << st.status().message();
  EXPECT_NE(st.status().message().find("rather than resetting the instance's cursor"), std::string::npos)
      << st.status().message();
  EXPECT_EQ(ReadAll(path), "{\"id\":\"boat-001\",\"cursor\":12@34}");  // left for the operator
}

TEST(InstanceState, TruncatedStateJsonIsRefusedNotReadAsCursorZero) {
  TempDir tmp;
  const std::string dir = MakeInstanceDir(tmp, "boat-001");
  const std::string full = EncodeInstanceState(Sample("boat-001"));
  for (size_t cut : {size_t{0}, size_t{1}, full.size() / 2, full.size() - 3}) {
    WriteText(dir + "/state.json", full.substr(0, cut));
    Result<InstanceState> st = LoadInstanceState(dir, "boat-001");
    ASSERT_FALSE(st.ok()) << "cut at " << cut;
    EXPECT_TRUE(st.status().IsCorruption()) << st.status().ToString();
    EXPECT_NE(st.status().message().find(dir + "/state.json"), std::string::npos) << st.status().message();
  }
  // Every shorter prefix (the file ends "}\n"): never a crash, never a state.
  for (size_t cut = 0; cut + 1 < full.size(); ++cut) {
    ASSERT_FALSE(DecodeInstanceState(full.substr(0, cut), "d/state.json", "boat-001").ok()) << "cut at " << cut;
  }
}

TEST(InstanceState, StateWithoutACursorIsRefused) {
  Result<InstanceState> st = DecodeInstanceState(R"({"id":"b","boat_head_seq":5})", "d/state.json", "b");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().message().find("d/state.json: damaged instance state (no \"cursor\" key)"), 0u)
      << st.status().message();
}

TEST(InstanceState, WrongValueTypesAreRefusedNamingTheKeyAndValue) {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {R"([1,2])", "the top level is an array ([1,2]), expected an object"},
      {R"({"cursor":-1})", "cursor is -1, expected a whole number 0..18446744073709551615"},
      {R"({"cursor":1.5})", "cursor is 1.5, expected a whole number"},
      {R"({"cursor":18446744073709551616})", "cursor is 1.8446744073709552e+19, expected a whole number"},
      {R"({"cursor":"100"})", "cursor is a string (\"100\"), expected a whole number"},
      {R"({"cursor":1,"boat_head_seq":null})", "boat_head_seq is a null (null)"},
      {R"({"cursor":1,"holes":{"Start":1}})", "holes is an object ({\"Start\":1}), expected an array"},
      {R"({"cursor":1,"holes":[7]})", "holes[0] is 7, expected {\"Start\":n,\"End\":n}"},
      {R"({"cursor":1,"holes":[{"Start":1,"End":4},{"Start":5}]})", "holes[1] has no End ({\"Start\":5})"},
      {R"({"cursor":1,"holes":[{"Start":-5,"End":4}]})", "holes[0].Start is -5, expected a whole number"},
      {R"({"cursor":1,"last_seen":"yesterday"})", "last_seen \"yesterday\" is not an RFC 3339 time"},
      {R"({"cursor":1,"last_seen":0})", "last_seen is 0, expected a string"},
      {R"({"id":7,"cursor":1})", "id is 7, expected a string"},
  };
  for (const Case& c : cases) {
    Result<InstanceState> st = DecodeInstanceState(c.text, "d/state.json", "b");
    ASSERT_FALSE(st.ok()) << c.text;
    EXPECT_TRUE(st.status().IsCorruption()) << c.text;
    EXPECT_NE(st.status().message().find(c.says), std::string::npos) << c.text << " → " << st.status().message();
    EXPECT_EQ(st.status().message().rfind("d/state.json: ", 0), 0u) << st.status().message();
  }
}

TEST(InstanceState, NullHolesReadAsNoHoles) {
  Result<InstanceState> st = DecodeInstanceState(R"({"cursor":3,"holes":null})", "d/state.json", "b");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_TRUE(st->holes.empty());
}

TEST(InstanceState, StateCopiedFromAnotherInstanceIsRefused) {
  TempDir tmp;
  const std::string dir = MakeInstanceDir(tmp, "boat-002");
  ASSERT_TRUE(SaveInstanceState(dir, Sample("boat-001")).ok());
  Result<InstanceState> st = LoadInstanceState(dir, "boat-002");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("belongs to instance \"boat-001\", not to \"boat-002\""), std::string::npos)
      << st.status().message();
}

TEST(InstanceState, OversizedStateFileIsRefusedWithoutReadingIt) {
  TempDir tmp;
  const std::string dir = MakeInstanceDir(tmp, "b");
  WriteText(dir + "/state.json", "{");
  std::filesystem::resize_file(dir + "/state.json", kMaxStateFileSize + 1);  // sparse: no disk used
  Result<InstanceState> st = LoadInstanceState(dir, "b");
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.status().IsCorruption());
  EXPECT_NE(st.status().message().find(dir + "/state.json: damaged instance state (16777217 bytes"),
            std::string::npos)
      << st.status().message();
}

TEST(InstanceState, StateWriteIsAtomicWhenTheRenameFails) {
  TempDir tmp;
  const std::string dir = MakeInstanceDir(tmp, "boat-001");
  InstanceState old = Sample("boat-001");
  ASSERT_TRUE(SaveInstanceState(dir, old).ok());
  const std::string before = ReadAll(dir + "/state.json");

  RenameFailingFileSystem fs;
  fs.fail_rename = true;
  InstanceState next = old;
  next.cursor = 900;
  next.holes.clear();
  Status s = SaveInstanceState(dir, next, &fs);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(fs.renames, 1);
  EXPECT_NE(s.message().find("writing instance state " + dir + "/state.json"), std::string::npos) << s.message();
  EXPECT_EQ(ReadAll(dir + "/state.json"), before);  // the old state, whole
  EXPECT_FALSE(std::filesystem::exists(dir + "/state.json.tmp"));
  Result<InstanceState> back = LoadInstanceState(dir, "boat-001");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->cursor, 500u);
}

TEST(InstanceState, StateWriteIsAtomicWhenTheDiskFillsOrTheSyncFails) {
  TempDir tmp;
  const std::string dir = MakeInstanceDir(tmp, "boat-001");
  ASSERT_TRUE(SaveInstanceState(dir, Sample("boat-001")).ok());
  const std::string before = ReadAll(dir + "/state.json");
  InstanceState next = Sample("boat-001");
  next.cursor = 900;

  FaultInjectingFileSystem full(FileSystem::Default());
  full.FailWritesAfter(10, ENOSPC);  // a short write of the temp file
  Status s = SaveInstanceState(dir, next, &full);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir + "/state.json"), std::string::npos) << s.message();
  EXPECT_EQ(ReadAll(dir + "/state.json"), before);
  EXPECT_FALSE(std::filesystem::exists(dir + "/state.json.tmp"));

  FaultInjectingFileSystem unsyncable(FileSystem::Default());
  unsyncable.FailSyncs(EIO);  // the rename must not happen before the data is durable
  ASSERT_FALSE(SaveInstanceState(dir, next, &unsyncable).ok());
  EXPECT_EQ(ReadAll(dir + "/state.json"), before);
  EXPECT_FALSE(std::filesystem::exists(dir + "/state.json.tmp"));
}

TEST(InstanceState, StateWriteSyncsTheDirectoryAfterTheRename) {
  TempDir tmp;
  const std::string dir = MakeInstanceDir(tmp, "boat-001");
  RenameFailingFileSystem fs;
  ASSERT_TRUE(SaveInstanceState(dir, Sample("boat-001"), &fs).ok());
  EXPECT_EQ(fs.renames, 1);
  EXPECT_EQ(fs.dir_syncs, 1);
  fs.fail_dir_sync = true;
  Status s = SaveInstanceState(dir, Sample("boat-001"), &fs);
  ASSERT_FALSE(s.ok());  // reported, so the caller knows the state may not survive power loss
  EXPECT_NE(s.message().find("directory not synced"), std::string::npos) << s.message();
}

TEST(InstanceState, StaleTempFileFromACrashIsReplacedOnTheNextWrite) {
  TempDir tmp;
  const std::string dir = MakeInstanceDir(tmp, "boat-001");
  WriteText(dir + "/state.json.tmp", "half a sta");
  ASSERT_TRUE(SaveInstanceState(dir, Sample("boat-001")).ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/state.json.tmp"));
  Result<InstanceState> back = LoadInstanceState(dir, "boat-001");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->cursor, 500u);
}

TEST(InstanceState, InvalidIdIsRefusedBeforeAnyFileIsTouched) {
  TempDir tmp;
  InstanceState st = Sample("../evil");
  Status s = SaveInstanceState(tmp.path(), st);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/state.json.tmp"));
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/state.json"));
  EXPECT_FALSE(LoadInstanceState(tmp.path(), "a/b").ok());
}

// Issue 8, acceptance 4: ids that would climb out of instances/, hide, or be
// empty or unbounded never become a path.
TEST(InstanceState, HostileInstanceIdsNeverBecomeAPath) {
  const std::string too_long(129, 'a');
  for (const std::string& id : {std::string("../x"), std::string("a/b"), std::string(".x"), std::string(""),
                                std::string(".."), std::string("a\\b"), std::string("a b"), std::string("x\n"),
                                too_long}) {
    Result<std::string> dir = InstanceDirFor("/data", id);
    ASSERT_FALSE(dir.ok()) << id;
    EXPECT_EQ(dir.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(dir.status().message().find("use 1..128 characters of A-Z a-z 0-9 . _ -"), std::string::npos)
        << dir.status().message();
  }
  Result<std::string> ok = InstanceDirFor("/data", std::string(128, 'a'));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "/data/instances/" + std::string(128, 'a'));
  EXPECT_EQ(*InstanceDirFor("/data/", "boat-1.b_2"), "/data/instances/boat-1.b_2");
}

}  // namespace
}  // namespace lplex::replication
