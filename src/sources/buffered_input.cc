#include "sources/buffered_input.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace lplex::sources {

BufferedInput::BufferedInput(std::unique_ptr<RandomAccessFile> file, uint64_t size, size_t buffer_size)
    : file_(std::move(file)), size_(size) {
  // A zero-sized buffer would make Refill unable to make progress.
  buf_.resize(std::max<size_t>(1, static_cast<size_t>(std::min<uint64_t>(buffer_size, size))));
}

Status BufferedInput::Refill(bool* grew) {
  *grew = false;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (end_ < buf_.size() && file_pos_ < size_) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf_.size() - end_, size_ - file_pos_));
    LPLEX_ASSIGN_OR_RETURN(const size_t got, file_->Read(file_pos_, want, buf_.data() + end_));
    if (got == 0) {
      // The file shrank under us: treat what we have as its end.
      size_ = file_pos_;
      break;
    }
    end_ += got;
    file_pos_ += got;
    *grew = true;
  }
  return Status::Ok();
}

Status BufferedInput::Ensure(size_t n) {
  if (available() >= n) return Status::Ok();
  if (n > buf_.size()) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    buf_.resize(n);
  }
  bool grew = true;
  while (available() < n && grew) LPLEX_RETURN_IF_ERROR(Refill(&grew));
  return Status::Ok();
}

Status BufferedInput::Skip(uint64_t n, uint64_t* skipped) {
  *skipped = 0;
  for (;;) {
    size_t take = static_cast<size_t>(std::min<uint64_t>(n - *skipped, available()));
    Consume(take);
    *skipped += take;
    if (*skipped == n) return Status::Ok();
    bool grew = false;
    LPLEX_RETURN_IF_ERROR(Refill(&grew));
    if (!grew) return Status::Ok();
  }
}

}  // namespace lplex::sources
