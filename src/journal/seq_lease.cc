#include "journal/seq_lease.h"

#include <fmt/format.h>

#include <charconv>
#include <string_view>
#include <vector>

#include "core/thread_name.h"

namespace lplex::journal {
namespace {

// One line, so a person can read it: "lplex-seq-lease v1 next=123456\n".
constexpr std::string_view kMagic = "lplex-seq-lease v1 next=";

Status Damaged(const std::string& path, std::string_view why) {
  return Status::Corruption(fmt::format(
      "{}: damaged seq lease ({}; valid: one line \"{}N\"); remove the file to continue from the journals' seq",
      path, why, kMagic));
}

}  // namespace

std::string SeqLeasePath(const std::string& dir) { return JoinPath(dir, kSeqLeaseFileName); }

Result<std::optional<uint64_t>> ReadSeqLease(const std::string& dir, FileSystem* fs) {
  if (fs == nullptr) fs = FileSystem::Default();
  const std::string path = SeqLeasePath(dir);
  if (!fs->Exists(path)) return std::optional<uint64_t>();
  LPLEX_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, fs->NewRandomAccessFile(path));
  LPLEX_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  if (size > 256) return Damaged(path, fmt::format("{} bytes", size));
  std::vector<uint8_t> buf(static_cast<size_t>(size));
  LPLEX_ASSIGN_OR_RETURN(size_t n, f->Read(0, buf.size(), buf.data()));
  std::string_view text(reinterpret_cast<const char*>(buf.data()), n);
  if (text.substr(0, kMagic.size()) != kMagic) return Damaged(path, "unknown header");
  text.remove_prefix(kMagic.size());
  if (text.empty() || text.back() != '\n') return Damaged(path, "truncated");
  text.remove_suffix(1);
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) {
    return Damaged(path, fmt::format("bad seq \"{}\"", text));
  }
  return std::optional<uint64_t>(value);
}

Status WriteSeqLease(const std::string& dir, uint64_t ceiling, FileSystem* fs) {
  if (fs == nullptr) fs = FileSystem::Default();
  const std::string path = SeqLeasePath(dir);
  const std::string tmp = path + ".tmp";
  if (fs->Exists(tmp)) {
    // Left by a crash mid-write; the lease itself is still whole.
    Status s = fs->RemoveFile(tmp);
    if (!s.ok()) return s.WithContext("seq lease");
  }
  const std::string line = fmt::format("{}{}\n", kMagic, ceiling);
  Status s = [&]() -> Status {
    LPLEX_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, fs->NewExclusiveFile(tmp));
    LPLEX_RETURN_IF_ERROR(
        f->Append(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(line.data()), line.size())));
    LPLEX_RETURN_IF_ERROR(f->Sync());
    LPLEX_RETURN_IF_ERROR(f->Close());
    LPLEX_RETURN_IF_ERROR(fs->RenameFile(tmp, path));
    return fs->SyncDir(dir);
  }();
  if (!s.ok()) {
    (void)fs->RemoveFile(tmp);
    return s.WithContext("writing seq lease " + path);
  }
  return Status::Ok();
}

Result<std::unique_ptr<SeqLease>> SeqLease::Acquire(SeqLeaseOptions options, uint64_t next_seq) {
  if (options.fs == nullptr) options.fs = FileSystem::Default();
  if (options.chunk < 2) options.chunk = 2;
  const uint64_t ceiling = next_seq + options.chunk;
  LPLEX_RETURN_IF_ERROR(WriteSeqLease(options.dir, ceiling, options.fs));
  return std::unique_ptr<SeqLease>(new SeqLease(std::move(options), ceiling));
}

SeqLease::SeqLease(SeqLeaseOptions options, uint64_t ceiling)
    : opt_(std::move(options)),
      log_(opt_.log != nullptr ? opt_.log : Logger::Default()),
      ceiling_(ceiling),
      renew_at_(ceiling - opt_.chunk / 2) {
  thread_ = std::thread([this] {
    SetCurrentThreadName("lplex-seqlease");
    Run();
  });
}

SeqLease::~SeqLease() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SeqLease::Renew(uint64_t seq) {
  std::unique_lock<std::mutex> l(mu_);
  const uint64_t c = ceiling_.load(std::memory_order_acquire);
  if (seq + 1 < c) {
    // Half used: ask the thread for the next chunk; come back only when the
    // ceiling itself is reached (or the thread moved renew_at_ on).
    if (wanted_ < c + opt_.chunk) wanted_ = c + opt_.chunk;
    renew_at_.store(c, std::memory_order_relaxed);
    l.unlock();
    cv_.notify_all();
    return;
  }
  // The next seq is not reserved yet: it must not be handed out before it is.
  if (wanted_ < seq + 1 + opt_.chunk) wanted_ = seq + 1 + opt_.chunk;
  const uint64_t errors = write_errors_.load(std::memory_order_relaxed);
  cv_.notify_all();
  cv_.wait(l, [&] {
    return stop_ || ceiling_.load(std::memory_order_acquire) > seq + 1 ||
           write_errors_.load(std::memory_order_relaxed) != errors;
  });
  if (ceiling_.load(std::memory_order_acquire) <= seq + 1) {
    log_->Error("seq lease: seqs from {} are not reserved on disk ({}): after a crash they may be handed out again",
                seq + 1, SeqLeasePath(opt_.dir));
    renew_at_.store(seq + 1 + opt_.chunk / 2, std::memory_order_relaxed);
  }
}

void SeqLease::Run() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait(l, [&] { return stop_ || wanted_ > ceiling_.load(std::memory_order_relaxed); });
    if (stop_) return;
    const uint64_t target = wanted_;
    l.unlock();
    const Status s = WriteSeqLease(opt_.dir, target, opt_.fs);
    l.lock();
    if (s.ok()) {
      ceiling_.store(target, std::memory_order_release);
      renew_at_.store(target - opt_.chunk / 2, std::memory_order_relaxed);
    } else {
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      wanted_ = 0;
      log_->Error("seq lease: {}", s.ToString());
    }
    cv_.notify_all();
  }
}

Status SeqLease::Release(uint64_t next_seq) {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  LPLEX_RETURN_IF_ERROR(WriteSeqLease(opt_.dir, next_seq, opt_.fs));
  ceiling_.store(next_seq, std::memory_order_release);
  return Status::Ok();
}

}  // namespace lplex::journal
