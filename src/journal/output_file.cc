#include "journal/output_file.h"

#include <cassert>
#include <utility>

namespace lplex::journal {

OutputFile::OutputFile(OutputFileOptions options) : opt_(std::move(options)) { assert(opt_.fs != nullptr); }

OutputFile::~OutputFile() { (void)Finish(); }

const std::string& OutputFile::path() const {
  static const std::string kNone;
  return file_ ? file_->path() : kNone;
}

Status OutputFile::Open(int64_t first_frame_us, Compression compression) {
  assert(!is_open());
  LPLEX_ASSIGN_OR_RETURN(file_, JournalFile::Create(opt_.fs, opt_.dir, opt_.prefix, first_frame_us, opt_.block_size,
                                                    compression, opt_.on_open_change));
  bytes_written_ += file_->size();
  return Status::Ok();
}

Status OutputFile::AppendBlock(std::initializer_list<std::span<const uint8_t>> pieces) {
  assert(is_open());
  const uint64_t before = file_->size();
  Status s = file_->AppendBlock(pieces);
  bytes_written_ += file_->size() - before;
  return s;
}

Status OutputFile::Sync() {
  assert(is_open());
  return file_->Sync();
}

Status OutputFile::Finish(bool write_index) {
  if (!file_) return Status::Ok();
  const uint64_t before = file_->size();
  Status s = file_->Finish(write_index);
  bytes_written_ += file_->size() - before;
  RotatedFile done{file_->path(), ""};
  file_.reset();
  ++files_finished_;
  if (opt_.on_open_change) opt_.on_open_change(done.path, false);
  if (opt_.on_rotate) opt_.on_rotate(done);
  return s;
}

}  // namespace lplex::journal
