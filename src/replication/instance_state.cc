#include "replication/instance_state.h"

#include <fmt/format.h>

#include <cctype>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "core/instance_id.h"
#include "core/time.h"

namespace lplex::replication {
namespace {

using Json = nlohmann::ordered_json;

// Go's zero time.Time, which the reference writes for a never-set LastSeen.
constexpr std::string_view kGoZeroTime = "0001-01-01T00:00:00Z";

int64_t GoZeroTimeUs() {
  static const int64_t us = timefmt::FromCivil(timefmt::CivilTime{1, 1, 1, 0, 0, 0, 0});
  return us;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value as it can be quoted in a message: its JSON text, cut short.
std::string Shown(const Json& v) {
  std::string text = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 64) text = text.substr(0, 60) + "...";
  return text;
}

// "-1", "1.5" for numbers; "a string (\"100\")" for anything else.
std::string Described(const Json& v) {
  if (v.is_number()) return Shown(v);
  const std::string_view type = v.type_name();
  const bool vowel = type.find_first_of("aeiou") == 0;
  return fmt::format("{} {} ({})", vowel ? "an" : "a", type, Shown(v));
}

Status Damaged(std::string_view path, std::string_view what) {
  return Status::Corruption(
      fmt::format("{}: damaged instance state ({}); refusing it rather than resetting the instance's cursor and "
                  "holes: repair the file, or move it aside to start the instance from scratch",
                  path, what));
}

// A whole number in [0, UINT64_MAX]; `where` names the key in messages.
Status GetSeq(const Json& v, std::string_view path, std::string_view where, uint64_t* out) {
  if (!v.is_number_unsigned()) {
    return Damaged(path,
                   fmt::format("{} is {}, expected a whole number 0..18446744073709551615", where, Described(v)));
  }
  *out = v.get<uint64_t>();
  return Status::Ok();
}

Status GetHoles(const Json& v, std::string_view path, std::vector<SeqRange>* out) {
  out->clear();
  if (v.is_null()) return Status::Ok();  // Go decodes null into an empty slice
  if (!v.is_array()) {
    return Damaged(path, fmt::format("holes is {}, expected an array of {{\"Start\":n,\"End\":n}}", Described(v)));
  }
  HoleTracker merged;  // rebuilt with Add, as the reference does
  for (size_t i = 0; i < v.size(); ++i) {
    const Json& h = v[i];
    if (!h.is_object()) {
      return Damaged(path, fmt::format("holes[{}] is {}, expected {{\"Start\":n,\"End\":n}}", i, Described(h)));
    }
    std::optional<uint64_t> start;
    std::optional<uint64_t> end;
    for (auto it = h.begin(); it != h.end(); ++it) {
      const std::string key = Lower(it.key());
      if (key != "start" && key != "end") continue;
      uint64_t n = 0;
      LPLEX_RETURN_IF_ERROR(GetSeq(it.value(), path, fmt::format("holes[{}].{}", i, it.key()), &n));
      (key == "start" ? start : end) = n;
    }
    if (!start || !end) {
      return Damaged(path, fmt::format("holes[{}] has no {} ({}), expected {{\"Start\":n,\"End\":n}}", i,
                                       start ? "End" : "Start", Shown(h)));
    }
    merged.Add(*start, *end);
  }
  *out = merged.Holes();
  return Status::Ok();
}

}  // namespace

void InstanceState::SetProgress(const ReplicaProgress& p) {
  cursor = p.cursor();
  seen_through = p.seen_through();
  holes = p.holes().Holes();
}

Result<std::string> InstanceDirFor(const std::string& data_dir, std::string_view id) {
  LPLEX_RETURN_IF_ERROR(ValidateInstanceId(id));
  return JoinPath(JoinPath(data_dir, "instances"), std::string(id));
}

std::string EncodeInstanceState(const InstanceState& state) {
  Json j = Json::object();
  j["id"] = state.id;
  j["cursor"] = state.cursor;
  if (!state.holes.empty()) {
    Json holes = Json::array();
    for (const SeqRange& h : state.holes) {
      Json o = Json::object();
      o["Start"] = h.start;
      o["End"] = h.end;
      holes.push_back(std::move(o));
    }
    j["holes"] = std::move(holes);
  }
  j["boat_head_seq"] = state.boat_head_seq;
  j["boat_journal_bytes"] = state.boat_journal_bytes;
  j["last_seen"] = state.last_seen_us ? timefmt::Rfc3339Nano(*state.last_seen_us) : std::string(kGoZeroTime);
  j["seen_through"] = state.seen_through;
  // Invalid UTF-8 in the id cannot happen (validated on save), but never throw.
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<InstanceState> DecodeInstanceState(std::string_view text, std::string_view path,
                                          std::string_view expected_id) {
  Json j;
  try {
    j = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, ...".
    std::string why = e.what();
    if (const size_t at = why.find("] "); at != std::string::npos) why.erase(0, at + 2);
    const std::string_view shape = text.empty() ? "empty file" : "not valid JSON";
    return Damaged(path, fmt::format("{}, {} bytes: {}", shape, text.size(), why));
  }
  if (!j.is_object()) return Damaged(path, fmt::format("the top level is {}, expected an object", Described(j)));

  InstanceState st;
  st.id = std::string(expected_id);
  bool have_cursor = false;
  bool have_seen = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = Lower(it.key());
    const Json& v = it.value();
    if (key == "id") {
      if (!v.is_string()) return Damaged(path, fmt::format("id is {}, expected a string", Described(v)));
      const auto& id = v.get_ref<const std::string&>();
      if (id != expected_id) {
        return Damaged(path, fmt::format("it belongs to instance \"{}\", not to \"{}\" whose directory holds it",
                                         id.substr(0, 160), expected_id));
      }
    } else if (key == "cursor") {
      LPLEX_RETURN_IF_ERROR(GetSeq(v, path, it.key(), &st.cursor));
      have_cursor = true;
    } else if (key == "seen_through") {
      LPLEX_RETURN_IF_ERROR(GetSeq(v, path, it.key(), &st.seen_through));
      have_seen = true;
    } else if (key == "holes") {
      LPLEX_RETURN_IF_ERROR(GetHoles(v, path, &st.holes));
    } else if (key == "boat_head_seq") {
      LPLEX_RETURN_IF_ERROR(GetSeq(v, path, it.key(), &st.boat_head_seq));
    } else if (key == "boat_journal_bytes") {
      LPLEX_RETURN_IF_ERROR(GetSeq(v, path, it.key(), &st.boat_journal_bytes));
    } else if (key == "last_seen") {
      if (!v.is_string()) return Damaged(path, fmt::format("last_seen is {}, expected a string", Described(v)));
      const auto& s = v.get_ref<const std::string&>();
      const std::optional<int64_t> us = timefmt::ParseRfc3339(s);
      if (!us) {
        return Damaged(path, fmt::format("last_seen \"{}\" is not an RFC 3339 time (e.g. 2026-03-02T14:00:00Z)",
                                         s.substr(0, 80)));
      }
      st.last_seen_us = *us == GoZeroTimeUs() ? std::nullopt : us;
    }
  }
  if (!have_cursor) return Damaged(path, "no \"cursor\" key");
  if (!have_seen) st.seen_through = 0;  // a reference file: Restore derives it from cursor and holes
  return st;
}

Result<InstanceState> LoadInstanceState(const std::string& instance_dir, std::string_view id, FileSystem* fs) {
  if (fs == nullptr) fs = FileSystem::Default();
  LPLEX_RETURN_IF_ERROR(ValidateInstanceId(id));
  const std::string path = JoinPath(instance_dir, std::string(kStateFileName));
  if (!fs->Exists(path)) {
    InstanceState fresh;
    fresh.id = std::string(id);
    return fresh;
  }
  auto read = [&]() -> Result<std::string> {
    LPLEX_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, fs->NewRandomAccessFile(path));
    LPLEX_ASSIGN_OR_RETURN(uint64_t size, f->Size());
    if (size > kMaxStateFileSize) {
      return Damaged(path, fmt::format("{} bytes, more than any state lplex writes (limit {})", size,
                                       kMaxStateFileSize));
    }
    std::string text(static_cast<size_t>(size), '\0');
    LPLEX_ASSIGN_OR_RETURN(size_t n, f->Read(0, text.size(), reinterpret_cast<uint8_t*>(text.data())));
    text.resize(n);
    return text;
  };
  Result<std::string> text = read();
  if (!text.ok()) {
    if (text.status().IsCorruption()) return text.status();
    return text.status().WithContext("reading instance state " + path);
  }
  return DecodeInstanceState(*text, path, id);
}

Status SaveInstanceState(const std::string& instance_dir, const InstanceState& state, FileSystem* fs) {
  if (fs == nullptr) fs = FileSystem::Default();
  LPLEX_RETURN_IF_ERROR(ValidateInstanceId(state.id));
  const std::string path = JoinPath(instance_dir, std::string(kStateFileName));
  const std::string tmp = JoinPath(instance_dir, std::string(kStateTempFileName));
  if (fs->Exists(tmp)) {
    // Left by a crash mid-write; state.json itself is still whole.
    Status s = fs->RemoveFile(tmp);
    if (!s.ok()) return s.WithContext("writing instance state " + path + ": removing a stale " + tmp);
  }
  const std::string text = EncodeInstanceState(state);
  Status s = [&]() -> Status {
    LPLEX_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, fs->NewExclusiveFile(tmp));
    Status w = f->Append(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    if (w.ok()) w = f->Sync();
    Status c = f->Close();
    LPLEX_RETURN_IF_ERROR(w);
    LPLEX_RETURN_IF_ERROR(c);
    return fs->RenameFile(tmp, path);
  }();
  if (!s.ok()) {
    (void)fs->RemoveFile(tmp);
    return s.WithContext("writing instance state " + path);
  }
  s = fs->SyncDir(instance_dir);
  if (!s.ok()) return s.WithContext("writing instance state " + path + " (renamed into place, directory not synced)");
  return Status::Ok();
}

}  // namespace lplex::replication
