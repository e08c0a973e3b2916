// The ".archived" marker: a zero-byte "<journal file>.archived" beside a
// journal file records that the keeper's archive target confirmed a copy of
// it. Retention deletes a marked file as archived, so the suffix is defined
// once, here, for both sides that care about it: the keeper, which writes,
// reads and removes markers, and the writers, which never create a journal
// file whose marker already exists (ADR 003) — a leftover marker would
// otherwise make a new, never-archived file count as archived.
#pragma once

#include <string>
#include <string_view>

namespace lplex::journal {

inline constexpr std::string_view kArchivedMarkerSuffix = ".archived";

// "{journal_path}.archived".
inline std::string ArchivedMarkerPath(std::string_view journal_path) {
  std::string out(journal_path);
  out += kArchivedMarkerSuffix;
  return out;
}

}  // namespace lplex::journal
