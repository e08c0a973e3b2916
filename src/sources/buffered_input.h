// BufferedInput: sequential reads of a RandomAccessFile through one buffer,
// so that readers can look at a window of bytes, consume some, and refill.
// Internal to src/sources.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"

namespace lplex::sources {

class BufferedInput {
 public:
  static constexpr size_t kDefaultBufferSize = size_t{1} << 20;

  // `size` is the file's size (reads stop there). The buffer holds
  // min(buffer_size, size) bytes, so small inputs cost little memory.
  BufferedInput(std::unique_ptr<RandomAccessFile> file, uint64_t size, size_t buffer_size = kDefaultBufferSize);
  BufferedInput(const BufferedInput&) = delete;
  BufferedInput& operator=(const BufferedInput&) = delete;

  // The bytes buffered and not consumed yet.
  const uint8_t* data() const { return buf_.data() + begin_; }
  size_t available() const { return end_ - begin_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data()), available()}; }

  void Consume(size_t n) { begin_ += n; }

  // Moves the unconsumed bytes to the front and reads more after them until
  // the buffer is full or the file ends. Sets *grew to whether any byte was added.
  Status Refill(bool* grew);
  // Refills until at least n bytes are available or the file ends (growing the
  // buffer when n exceeds it).
  Status Ensure(size_t n);
  // Consumes n bytes, reading past the buffer as needed. Sets *skipped to how
  // many were actually there (less than n only at the end of the file).
  Status Skip(uint64_t n, uint64_t* skipped);

  // True when everything up to the file's end has been read into the buffer.
  bool at_file_end() const { return file_pos_ >= size_; }
  // True when the buffer is full (a refill cannot add bytes without consuming).
  bool full() const { return begin_ == 0 && end_ == buf_.size(); }
  size_t capacity() const { return buf_.size(); }

  // File offset of data().
  uint64_t position() const { return file_pos_ - available(); }
  uint64_t size() const { return size_; }

 private:
  std::unique_ptr<RandomAccessFile> file_;
  uint64_t size_;
  uint64_t file_pos_ = 0;  // offset of the byte after buf_[end_ - 1]
  std::vector<uint8_t> buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace lplex::sources
