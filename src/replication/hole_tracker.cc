#include "replication/hole_tracker.h"

#include <algorithm>
#include <iterator>

namespace lplex::replication {

void HoleTracker::Add(uint64_t start, uint64_t end) {
  if (start >= end) return;
  // First hole that overlaps or touches [start, end) on the left: its end
  // reaches start. Ends are sorted because holes are disjoint and sorted.
  auto first = std::lower_bound(holes_.begin(), holes_.end(), start,
                                [](const SeqRange& h, uint64_t s) { return h.end < s; });
  auto last = first;
  while (last != holes_.end() && last->start <= end) ++last;  // overlaps or touches on the right
  if (first == last) {
    holes_.insert(first, SeqRange{start, end});
    return;
  }
  SeqRange merged{std::min(start, first->start), std::max(end, std::prev(last)->end)};
  *first = merged;
  holes_.erase(std::next(first), last);
}

bool HoleTracker::Fill(uint64_t start, uint64_t end) {
  if (start >= end || holes_.empty()) return false;
  // First hole with a seq at or after start.
  auto first = std::upper_bound(holes_.begin(), holes_.end(), start,
                                [](uint64_t s, const SeqRange& h) { return s < h.end; });
  auto last = first;
  while (last != holes_.end() && last->start < end) ++last;
  if (first == last) return false;
  // What survives of the overlapped holes: a left piece of the first one and
  // a right piece of the last one (the same hole when [start,end) is inside it).
  SeqRange pieces[2];
  size_t n = 0;
  if (first->start < start) pieces[n++] = SeqRange{first->start, start};
  const SeqRange& back = *std::prev(last);
  if (end < back.end) pieces[n++] = SeqRange{end, back.end};
  const auto at = holes_.erase(first, last);
  holes_.insert(at, pieces, pieces + n);
  return true;
}

uint64_t HoleTracker::TotalMissing() const {
  uint64_t total = 0;
  for (const SeqRange& h : holes_) total += h.end - h.start;
  return total;
}

bool HoleTracker::Contains(uint64_t seq) const {
  auto it = std::upper_bound(holes_.begin(), holes_.end(), seq,
                             [](uint64_t s, const SeqRange& h) { return s < h.end; });
  return it != holes_.end() && it->start <= seq;
}

uint64_t HoleTracker::ContinuousThrough(uint64_t cursor) const {
  auto it = std::upper_bound(holes_.begin(), holes_.end(), cursor,
                             [](uint64_t c, const SeqRange& h) { return c < h.end; });
  if (it == holes_.end()) return kNoHoleBelow;
  if (it->start <= cursor) return cursor == 0 ? 0 : cursor - 1;
  return it->start - 1;
}

void HoleTracker::CoarsenTo(size_t max_holes) {
  if (max_holes == 0) max_holes = 1;
  if (holes_.size() <= max_holes) return;
  // Close the (size - max_holes) smallest gaps in one pass, so even a huge
  // list (a reference state.json) is coarsened in O(n log n), not O(n^2).
  // Ties go to the older gap, which keeps the result deterministic.
  const size_t excess = holes_.size() - max_holes;
  std::vector<size_t> gaps(holes_.size() - 1);
  for (size_t i = 0; i < gaps.size(); ++i) gaps[i] = i;
  auto smaller = [&](size_t a, size_t b) {
    const uint64_t ga = holes_[a + 1].start - holes_[a].end;
    const uint64_t gb = holes_[b + 1].start - holes_[b].end;
    return ga != gb ? ga < gb : a < b;
  };
  std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(excess - 1), gaps.end(), smaller);
  std::vector<bool> close(holes_.size(), false);  // close[i]: merge hole i+1 into hole i
  for (size_t k = 0; k < excess; ++k) close[gaps[k]] = true;
  std::vector<SeqRange> out;
  out.reserve(max_holes);
  for (size_t i = 0; i < holes_.size(); ++i) {
    if (i > 0 && close[i - 1]) out.back().end = holes_[i].end;
    else out.push_back(holes_[i]);
  }
  holes_ = std::move(out);
}

}  // namespace lplex::replication
