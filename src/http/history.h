// GET /history: frames from the journal files of a directory, by time range,
// as one JSON array of frame objects (the SSE frame JSON, spec/boat.md §1.4).
//
// The array is produced piece by piece (Next), so the HTTP layer can stream
// it with chunked encoding: a day of frames never sits in memory. Memory is
// one open reader, one block, the (src, pgn) table of the downsampler and
// the list of file names.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "broker/filter.h"
#include "core/file_system.h"
#include "core/status.h"
#include "journal/reader.h"

namespace lplex::http {

struct HistoryQuery {
  int64_t from_us = std::numeric_limits<int64_t>::min();  // inclusive
  int64_t to_us = std::numeric_limits<int64_t>::max();    // exclusive
  // Only pgn, exclude_pgn and src are used (a journal has no device registry
  // to match manufacturer/instance/name against at read time).
  broker::FilterSpec filter;
  // > 0: at most one frame per (src, pgn) per interval (the first one at or
  // after the previous emitted frame's time + interval).
  int64_t interval_us = 0;
};

// Parses the /history query parameters (already percent-decoded): from, to
// (RFC 3339), pgn, exclude_pgn, src (repeated or comma-separated),
// interval (ISO 8601 duration, > 0). Other keys are ignored, except the
// device filters manufacturer/instance/name/exclude_name, which are refused
// by name. InvalidArgument names the parameter and the value.
Result<HistoryQuery> ParseHistoryQuery(const std::vector<std::pair<std::string, std::string>>& params);

class HistoryStream {
 public:
  // Lists the .lpj files of `dir` (a missing directory is an empty
  // journal), reads each one's first block time and seq, and orders them by
  // first time (then first seq, then name). Files that cannot be opened or
  // hold no block are left out. IOError when the directory cannot be listed.
  static Result<std::unique_ptr<HistoryStream>> Open(const std::string& dir, HistoryQuery query,
                                                     FileSystem* fs = nullptr);

  // Appends the next part of the JSON array ("[" first, "]" last, frames
  // separated by ",") to *out, stopping once *out holds about `budget`
  // bytes. Returns false when the array is complete (nothing appended). A
  // damaged block is skipped (counted in skipped_blocks()).
  bool Next(std::string* out, size_t budget);

  uint64_t frames() const { return frames_; }
  uint64_t skipped_blocks() const { return skipped_blocks_; }
  size_t file_count() const { return files_.size(); }

 private:
  struct File {
    std::string path;
    int64_t first_time_us = 0;
    uint64_t first_seq = 0;
  };
  HistoryStream(HistoryQuery q, FileSystem* fs) : q_(std::move(q)), fs_(fs) {}
  bool OpenNextFile();  // false when no file is left

  HistoryQuery q_;
  FileSystem* fs_;
  std::vector<File> files_;
  size_t next_file_ = 0;
  std::unique_ptr<journal::JournalReader> reader_;
  std::map<std::pair<uint8_t, uint32_t>, int64_t> last_emitted_;
  bool started_ = false;
  bool done_ = false;
  bool first_frame_ = true;
  uint64_t frames_ = 0;
  uint64_t skipped_blocks_ = 0;
};

}  // namespace lplex::http
