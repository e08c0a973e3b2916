#include "http/history.h"

#include <algorithm>

#include <fmt/format.h>

#include "can/frame_json.h"
#include "core/duration.h"
#include "core/strings.h"
#include "core/time.h"

namespace lplex::http {

Result<HistoryQuery> ParseHistoryQuery(const std::vector<std::pair<std::string, std::string>>& params) {
  HistoryQuery q;
  for (const auto& [k, v] : params) {
    if (k == "from" || k == "to") {
      auto t = timefmt::ParseRfc3339(v);
      if (!t) {
        return Status::InvalidArgument(
            fmt::format("invalid {} {}: not an RFC 3339 time (e.g. 2026-03-02T14:00:00.000Z)", k, QuoteLikeGo(v)));
      }
      (k == "from" ? q.from_us : q.to_us) = *t;
    } else if (k == "interval") {
      auto d = ParseIso8601Duration(v);
      if (!d.ok()) return Status::InvalidArgument(fmt::format("invalid interval: {}", d.status().message()));
      if (d->count() <= 0) {
        return Status::InvalidArgument(fmt::format("invalid interval {}: must be longer than zero (e.g. PT1M)", QuoteLikeGo(v)));
      }
      q.interval_us = d->count() * 1'000'000;
    } else if (k == "pgn" || k == "exclude_pgn" || k == "src") {
      LPLEX_RETURN_IF_ERROR(broker::AddFilterParam(k, v, &q.filter));
    } else if (broker::IsFilterKey(k)) {
      return Status::InvalidArgument(
          fmt::format("/history does not filter by {} (valid: pgn, exclude_pgn, src)", QuoteLikeGo(k)));
    }
  }
  if (q.from_us > q.to_us) {
    return Status::InvalidArgument(fmt::format("invalid range: from {} is after to {}", timefmt::Rfc3339Nano(q.from_us),
                                               timefmt::Rfc3339Nano(q.to_us)));
  }
  return q;
}

Result<std::unique_ptr<HistoryStream>> HistoryStream::Open(const std::string& dir, HistoryQuery query,
                                                           FileSystem* fs) {
  if (fs == nullptr) fs = FileSystem::Default();
  std::unique_ptr<HistoryStream> s(new HistoryStream(std::move(query), fs));
  if (!fs->Exists(dir)) return s;
  LPLEX_ASSIGN_OR_RETURN(auto entries, fs->ListDir(dir));
  for (const auto& e : entries) {
    if (e.is_dir || !e.name.ends_with(".lpj")) continue;
    const std::string path = dir + "/" + e.name;
    auto r = journal::JournalReader::OpenPath(path, fs);
    if (!r.ok() || (*r)->block_count() == 0) continue;
    auto t = (*r)->BlockBaseTime(0);
    auto seq = (*r)->BlockBaseSeq(0);
    if (!t.ok()) continue;
    s->files_.push_back(File{path, *t, seq.ok() ? *seq : 0});
  }
  std::sort(s->files_.begin(), s->files_.end(), [](const File& a, const File& b) {
    if (a.first_time_us != b.first_time_us) return a.first_time_us < b.first_time_us;
    if (a.first_seq != b.first_seq) return a.first_seq < b.first_seq;
    return a.path < b.path;
  });
  return s;
}

bool HistoryStream::OpenNextFile() {
  reader_.reset();
  while (next_file_ < files_.size()) {
    const size_t i = next_file_++;
    if (files_[i].first_time_us >= q_.to_us) {  // this and every later file start after the range
      next_file_ = files_.size();
      return false;
    }
    // Every frame of file i comes before file i+1 starts: skip files that
    // end before `from`.
    if (i + 1 < files_.size() && files_[i + 1].first_time_us <= q_.from_us) continue;
    auto r = journal::JournalReader::OpenPath(files_[i].path, fs_);
    if (!r.ok()) continue;  // removed by retention since Open
    reader_ = std::move(r).value();
    if (q_.from_us > files_[i].first_time_us && !reader_->SeekToTime(q_.from_us).ok()) {
      reader_->SkipBlock();
    }
    return true;
  }
  return false;
}

bool HistoryStream::Next(std::string* out, size_t budget) {
  if (done_) return false;
  const size_t start = out->size();
  if (!started_) {
    started_ = true;
    out->push_back('[');
    OpenNextFile();
  }
  while (out->size() - start < budget) {
    if (!reader_) {
      out->push_back(']');
      done_ = true;
      return true;
    }
    if (!reader_->Next()) {
      // A damaged block: step over it (SkipBlock always moves past the block
      // that failed, so this ends at the last block).
      if (!reader_->status().ok() && ++skipped_blocks_ && reader_->current_block() >= 0 &&
          reader_->current_block() + 1 < static_cast<int64_t>(reader_->block_count())) {
        reader_->SkipBlock();
        continue;
      }
      OpenNextFile();
      continue;
    }
    const can::Frame& f = reader_->frame();
    if (f.timestamp_us < q_.from_us) continue;
    if (f.timestamp_us >= q_.to_us) {  // the rest of this file is later still
      OpenNextFile();
      continue;
    }
    if (!q_.filter.empty() && !broker::MatchesLive(q_.filter, f.header.pgn, f.header.source, nullptr)) continue;
    if (q_.interval_us > 0) {
      auto [it, inserted] = last_emitted_.try_emplace({f.header.source, f.header.pgn}, f.timestamp_us);
      if (!inserted) {
        if (f.timestamp_us >= it->second && f.timestamp_us - it->second < q_.interval_us) continue;
        it->second = f.timestamp_us;
      }
    }
    if (!first_frame_) out->push_back(',');
    first_frame_ = false;
    can::AppendFrameJson(f.seq, f.timestamp_us, f.header, f.data, out);
    ++frames_;
  }
  return true;
}

}  // namespace lplex::http
