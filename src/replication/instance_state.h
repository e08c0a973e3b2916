// The per-instance state.json of the cloud (spec/cloud.md §1.10): where it
// lives, how it is encoded, and how it is written and read.
//
// Layout: {data-dir}/instances/{id}/state.json, written through
// state.json.tmp. The keys are the reference's, so a data dir written by the
// Go lplex-cloud loads here and ours loads there (Go ignores keys it does
// not know):
//   id, cursor, holes (array of {"Start":n,"End":n}, left out when empty),
//   boat_head_seq, boat_journal_bytes, last_seen (RFC 3339; the Go zero time
//   "0001-01-01T00:00:00Z" when never set), and our own seen_through
//   (replica_progress.h; derived from cursor and holes when absent).
// docs/replication-state.md describes the file and what we do differently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"
#include "replication/hole_tracker.h"
#include "replication/replica_progress.h"

namespace lplex::replication {

inline constexpr std::string_view kStateFileName = "state.json";
inline constexpr std::string_view kStateTempFileName = "state.json.tmp";
// Larger files are refused as damaged. With ReplicaProgress::kMaxHoles a
// state.json we write is a few tens of KiB.
inline constexpr uint64_t kMaxStateFileSize = 16 * 1024 * 1024;

// The persisted part of one instance. Runtime fields (connected, broker,
// event log) are not here.
struct InstanceState {
  std::string id;
  uint64_t cursor = 0;
  uint64_t seen_through = 0;
  std::vector<SeqRange> holes;
  uint64_t boat_head_seq = 0;
  uint64_t boat_journal_bytes = 0;
  std::optional<int64_t> last_seen_us;  // nullopt = never (the Go zero time)

  // The tracker these values describe (ReplicaProgress::Restore).
  ReplicaProgress Progress() const { return ReplicaProgress::Restore(cursor, seen_through, holes); }
  // Copies cursor, seen_through and holes from `p`.
  void SetProgress(const ReplicaProgress& p);
};

// {data_dir}/instances/{id}, built only from a valid id: InvalidArgument
// (ValidateInstanceId's message: it quotes the id and states the rule) for
// "", "../x", "a/b", ".x", an id over 128 characters, and anything else
// outside [A-Za-z0-9._-]. Every path the cloud builds from an id that came
// from a certificate, a header or a directory listing goes through here, so
// nothing can be created outside {data_dir}/instances.
Result<std::string> InstanceDirFor(const std::string& data_dir, std::string_view id);

// The file's text: two-space indented JSON, keys in the order above, ending
// in a newline. Holes are written with the reference's "Start"/"End" keys.
std::string EncodeInstanceState(const InstanceState& state);

// Parses the text of a state.json. `path` only goes into messages. Keys are
// matched without regard to case, as Go's decoder does ("Start"/"start").
// Unknown keys are ignored. Corruption, with a message that starts with
// `path` and says what is wrong, when:
//  - the text is not JSON (truncated, empty, trailing garbage), or not an object;
//  - "cursor" is missing (a file without it would silently reset the cursor);
//  - a number is negative, fractional or above UINT64_MAX, or another type
//    stands where a number, string or array belongs;
//  - a hole is not an object with whole-number Start and End;
//  - last_seen is not RFC 3339;
//  - id is present and is not `expected_id` (the directory's name): a state
//    copied from another instance must not lend it its cursor.
// Holes that are empty or inverted are dropped and overlapping ones merged
// (the reference rebuilds them with Add the same way).
Result<InstanceState> DecodeInstanceState(std::string_view text, std::string_view path,
                                          std::string_view expected_id);

// Reads {instance_dir}/state.json for instance `id`.
//  - no state.json: a fresh state {id, everything 0} (the reference's
//    "orphan" instance: a directory without state). A leftover
//    state.json.tmp is ignored: it is only ever renamed into place whole.
//  - a file larger than kMaxStateFileSize, unreadable, or refused by
//    DecodeInstanceState: that error. The caller must then keep the instance
//    out of service (refuse its handshakes naming the file) rather than start
//    it from scratch: a fresh state would reset the cursor and forget the
//    holes, so the boat's missing data would never be backfilled.
// `fs` null = FileSystem::Default().
Result<InstanceState> LoadInstanceState(const std::string& instance_dir, std::string_view id,
                                        FileSystem* fs = nullptr);

// Writes {instance_dir}/state.json atomically: a stale state.json.tmp (a
// crash mid-write) is removed, the new text is written to state.json.tmp
// (mode 0644), fsynced, closed, renamed over state.json, and the directory
// is fsynced. On any failure the temp file is removed and the old state.json
// is untouched (unless only the directory fsync failed: then the new file is
// in place but may not survive a power loss). The error names the file.
// InvalidArgument when state.id is not a valid instance id.
// Not safe to call concurrently for the same directory (the temp file is
// shared): callers serialize per instance, e.g. under the instance lock.
// `fs` null = FileSystem::Default().
Status SaveInstanceState(const std::string& instance_dir, const InstanceState& state, FileSystem* fs = nullptr);

}  // namespace lplex::replication
