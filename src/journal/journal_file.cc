#include "journal/journal_file.h"

#include <fmt/format.h>

#include <cstring>

#include "core/endian.h"
#include "core/time.h"
#include "journal/archived_marker.h"

namespace lplex::journal {
namespace {
constexpr int kMaxNameAttempts = 1000;
}  // namespace

Result<std::unique_ptr<JournalFile>> JournalFile::Create(
    FileSystem* fs, const std::string& dir, const std::string& prefix, int64_t first_frame_us, uint32_t block_size,
    Compression compression, const std::function<void(const std::string&, bool)>& on_open_change) {
  LPLEX_RETURN_IF_ERROR(fs->CreateDirs(dir));
  for (int attempt = 0; attempt < kMaxNameAttempts; ++attempt) {
    std::string path =
        JoinPath(dir, prefix + "-" + timefmt::FileStamp(first_frame_us + attempt * int64_t{1000}) + ".lpj");
    // A marker left from an earlier file of this name (deleted by hand, or
    // by a keeper that died before removing the marker) would make this new
    // file count as archived, and retention would delete it: the name is
    // taken.
    if (fs->Exists(ArchivedMarkerPath(path))) continue;
    if (on_open_change) on_open_change(path, true);
    auto file = fs->NewExclusiveFile(path);
    if (!file.ok()) {
      if (on_open_change) on_open_change(path, false);
      if (file.status().code() == Status::Code::kAlreadyExists) continue;
      return file.status();
    }
    uint8_t header[kFileHeaderSize];
    EncodeFileHeader(FileHeader{kVersion2, block_size, compression}, header);
    Status s = (*file)->Append({header, kFileHeaderSize});
    if (!s.ok()) {
      (void)(*file)->Close();
      (void)fs->RemoveFile(path);  // holds nothing worth keeping
      if (on_open_change) on_open_change(path, false);
      return s;
    }
    return std::unique_ptr<JournalFile>(new JournalFile(fs, dir, std::move(path), std::move(file).value(), compression));
  }
  return Status::AlreadyExists(fmt::format("no free journal file name in {} for {} after {} attempts", dir,
                                           timefmt::FileStamp(first_frame_us), kMaxNameAttempts));
}

JournalFile::JournalFile(FileSystem* fs, std::string dir, std::string path, std::unique_ptr<WritableFile> file,
                         Compression compression)
    : fs_(fs), dir_(std::move(dir)), path_(std::move(path)), file_(std::move(file)), compression_(compression) {}

JournalFile::~JournalFile() {
  if (!finished_) (void)file_->Close();
}

Status JournalFile::AppendBlock(std::initializer_list<std::span<const uint8_t>> pieces) {
  const uint64_t offset = size_;
  for (std::span<const uint8_t> p : pieces) {
    if (p.empty()) continue;
    LPLEX_RETURN_IF_ERROR(file_->Append(p));
    size_ += p.size();
  }
  offsets_.push_back(offset);
  ++blocks_;
  return Status::Ok();
}

Status JournalFile::Finish(bool write_index) {
  if (finished_) return Status::Ok();
  finished_ = true;
  Status s;
  if (write_index && compression_ != Compression::kNone && !offsets_.empty()) {
    std::vector<uint8_t> index(offsets_.size() * 8 + 8);
    uint8_t* p = index.data();
    for (uint64_t off : offsets_) {
      le::Store64(p, off);
      p += 8;
    }
    le::Store32(p, static_cast<uint32_t>(offsets_.size()));
    std::memcpy(p + 4, kIndexMagic, 4);
    s = file_->Append(index);
    if (s.ok()) size_ += index.size();
  }
  if (s.ok()) s = file_->Sync();
  Status close = file_->Close();
  if (s.ok()) s = close;
  if (s.ok()) s = fs_->SyncDir(dir_);
  return s;
}

}  // namespace lplex::journal
