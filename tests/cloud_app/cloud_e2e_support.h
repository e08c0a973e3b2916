// Helpers for the tests that run lplex-cloud (and lplex-server) as child
// processes: the binary, a free loopback port, a private PKI made by openssl
// for mTLS, a number out of a JSON reply, and the comparison of the cloud's
// journaled frames with the boat's (frame by frame, and seq by seq with a
// readable account of what differs).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "server/server_test_support.h"
#include "support/loopback_socket.h"

namespace lplex::testing {

inline const std::string kCloudBinary = std::string(LPLEX_BINARY_DIR) + "/apps/lplex-cloud/lplex-cloud";

// A loopback port free right now (a cloud that restarts must come back on
// the same one, so the test picks it rather than asking for port 0); 0 when
// none could be bound.
inline int FreeLoopbackPort() {
  int port = 0;
  const int fd = BindLoopback(&port, /*listen=*/false);
  if (fd < 0) return 0;
  ::close(fd);
  return port;
}

inline bool HaveOpenssl() { return std::system("command -v openssl >/dev/null 2>&1") == 0; }

// A private CA, a server certificate for localhost/127.0.0.1 and one client
// certificate per requested CN, all made by the openssl command line in one
// directory. A client CN may be anything an attacker's CA-signed certificate
// could carry: "../x", "a/b", a 300-character name (X.509 bounds a CN to 64
// characters, openssl enforces that unless told otherwise; the cloud must
// not rely on it), or "" for a certificate with no CN at all.
class TestPki {
 public:
  // False with *error = openssl's output when any step fails.
  bool Make(const std::string& dir, const std::vector<std::string>& client_cns, std::string* error) {
    dir_ = dir;
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::string script = "set -e; cd '" + dir + "'; exec >openssl.log 2>&1\n";
    // Lifts openssl's 64-character bound on commonName (its string table
    // module), for the over-long CN only.
    script += "printf 'openssl_conf = init\\n[init]\\nstbl_section = stbl\\n[stbl]\\ncommonName = min:1,max:1024\\n'"
              " > long-cn.cnf\n";
    script += "openssl req -x509 " + key + " -keyout ca.key -out ca.crt -days 2 -subj /CN=lplex-test-ca\n";
    script += "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.ext\n";
    script += "printf 'extendedKeyUsage=clientAuth\\n' > client.ext\n";
    script += Issue(key, "server", "/CN=localhost", "server.ext", false);
    for (size_t i = 0; i < client_cns.size(); ++i) {
      const std::string name = "client-" + std::to_string(i);
      clients_[client_cns[i]] = name;
      script += Issue(key, name, Subject(client_cns[i]), "client.ext", client_cns[i].size() > 64);
    }
    std::ofstream(dir + "/make.sh") << script;
    if (std::system(("sh '" + dir + "/make.sh'").c_str()) != 0) {
      *error = FileText(dir + "/openssl.log");
      return false;
    }
    return true;
  }

  std::string ca_file() const { return dir_ + "/ca.crt"; }
  std::string server_cert_file() const { return dir_ + "/server.crt"; }
  std::string server_key_file() const { return dir_ + "/server.key"; }
  // The client certificate made for `cn` (one of Make's client_cns).
  std::string client_cert_file(const std::string& cn) const { return dir_ + "/" + clients_.at(cn) + ".crt"; }
  std::string client_key_file(const std::string& cn) const { return dir_ + "/" + clients_.at(cn) + ".key"; }

  // The cloud's flags for an mTLS replication listener with this PKI.
  std::vector<std::string> CloudFlags() const {
    return {"-tls-cert", server_cert_file(), "-tls-key", server_key_file(), "-tls-client-ca", ca_file()};
  }
  // The boat's flags to replicate as the holder of `cn`'s certificate.
  std::vector<std::string> BoatFlags(const std::string& cn) const {
    return {"-replication-tls-cert", client_cert_file(cn), "-replication-tls-key", client_key_file(cn),
            "-replication-tls-ca", ca_file()};
  }

 private:
  // An openssl -subj value; '/' inside the CN is escaped, "" = no CN.
  static std::string Subject(const std::string& cn) {
    if (cn.empty()) return "/O=lplex-test-no-cn";
    std::string out = "/CN=";
    for (char c : cn) {
      if (c == '/' || c == '\\') out += '\\';
      out += c;
    }
    return out;
  }

  static std::string Issue(const std::string& key, const std::string& name, const std::string& subject,
                           const std::string& ext, bool long_cn) {
    const std::string env = long_cn ? "OPENSSL_CONF=long-cn.cnf " : "";
    return env + "openssl req -new " + key + " -keyout " + name + ".key -out " + name + ".csr -subj '" + subject +
           "'\n" + env + "openssl x509 -req -in " + name + ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 " +
           "-out " + name + ".crt -extfile " + ext + "\n";
  }

  std::string dir_;
  std::map<std::string, std::string> clients_;  // CN -> file stem
};

// The unsigned number after "key": in a flat JSON object, or nullopt.
inline std::optional<uint64_t> JsonUint(const std::string& body, const std::string& key) {
  std::smatch m;
  const std::regex re("\"" + key + "\":([0-9]+)");
  if (!std::regex_search(body, m, re)) return std::nullopt;
  return std::stoull(m[1]);
}

// Empty when `cloud` is the boat's frame: the same header and data bytes and
// the same time within 1 ms. A journal block stores time deltas that cannot
// go backwards, so a frame up to 1 ms older than the one before it in its
// block is stored at that one's time (journal/writer.cc kMaxClampUs). The
// sim's sources interleave that way now and then, and the boat's and the
// cloud's blocks start at different frames, so the same frame can be
// clamped in one journal and not in the other.
inline std::string FrameDifference(const StoredFrame& boat, const StoredFrame& cloud) {
  const int64_t skew = boat.timestamp_us > cloud.timestamp_us ? boat.timestamp_us - cloud.timestamp_us
                                                              : cloud.timestamp_us - boat.timestamp_us;
  if (skew <= 1000 && boat.pgn == cloud.pgn && boat.source == cloud.source &&
      boat.destination == cloud.destination && boat.priority == cloud.priority && boat.data == cloud.data) {
    return "";
  }
  auto show = [](const StoredFrame& f) {
    return f.file + " (t " + std::to_string(f.timestamp_us) + ", pgn " + std::to_string(f.pgn) + ", src " +
           std::to_string(f.source) + ", dst " + std::to_string(f.destination) + ", prio " +
           std::to_string(f.priority) + ", " + std::to_string(f.data.size()) + " bytes)";
  };
  return "seq " + std::to_string(cloud.seq) + " differs: cloud " + show(cloud) + ", boat " + show(boat);
}

// Every way the cloud's frames differ from the boat's, in the cloud's order
// (at most `max` lines): a seq the boat never journaled, or one whose frame
// is not the boat's (FrameDifference).
inline std::vector<std::string> FramesNotFromBoat(const std::vector<StoredFrame>& boat,
                                                  const std::vector<StoredFrame>& cloud, size_t max = 6) {
  std::map<uint64_t, const StoredFrame*> by_seq;
  for (const auto& f : boat) by_seq[f.seq] = &f;
  std::vector<std::string> out;
  for (const auto& c : cloud) {
    if (out.size() >= max) break;
    auto it = by_seq.find(c.seq);
    if (it == by_seq.end()) {
      out.push_back("cloud seq " + std::to_string(c.seq) + " (" + c.file + ") is not in the boat's journal");
      continue;
    }
    std::string d = FrameDifference(*it->second, c);
    if (!d.empty()) out.push_back(std::move(d));
  }
  return out;
}

// Seqs that appear more than once in `frames` (sorted by seq, as
// ReadJournalDir returns them), each with the files holding it; at most `max`.
inline std::vector<std::string> DuplicatedSeqs(const std::vector<StoredFrame>& frames, size_t max = 6) {
  std::vector<std::string> out;
  for (size_t i = 1; i < frames.size() && out.size() < max; ++i) {
    if (frames[i].seq == frames[i - 1].seq) {
      out.push_back("seq " + std::to_string(frames[i].seq) + " twice: " + frames[i - 1].file + " and " +
                    frames[i].file);
    }
  }
  return out;
}

// How many of `frames` are stored in one of `files`: with the journal files
// a cloud had when it stopped, the frames its first run journaled.
inline size_t FramesInFiles(const std::vector<StoredFrame>& frames, const std::vector<std::string>& files) {
  return static_cast<size_t>(std::count_if(frames.begin(), frames.end(), [&](const StoredFrame& f) {
    return std::find(files.begin(), files.end(), f.file) != files.end();
  }));
}

// Every file under `root`, recursively, as paths relative to it, sorted;
// entries under a top-level folder named in `skip` are left out.
inline std::vector<std::string> TreeListing(const std::string& root, const std::vector<std::string>& skip = {}) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::string rel = std::filesystem::relative(it->path(), root, ec).string();
    const std::string top = rel.substr(0, rel.find('/'));
    if (std::find(skip.begin(), skip.end(), top) != skip.end()) continue;
    out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// "5-9, 12, 20-21" for a sorted list, at most `limit` ranges, then "… (N more ranges)".
inline std::string SeqRanges(const std::vector<uint64_t>& seqs, size_t limit = 20) {
  std::string out;
  size_t ranges = 0;
  for (size_t i = 0; i < seqs.size();) {
    size_t j = i;
    while (j + 1 < seqs.size() && seqs[j + 1] == seqs[j] + 1) ++j;
    if (ranges < limit) {
      if (!out.empty()) out += ", ";
      out += std::to_string(seqs[i]);
      if (j > i) out += "-" + std::to_string(seqs[j]);
    }
    ++ranges;
    i = j + 1;
  }
  if (ranges > limit) out += ", ... (" + std::to_string(ranges - limit) + " more ranges)";
  return out.empty() ? "none" : out;
}

// The cloud's frames against the boat's, seq by seq.
struct SeqComparison {
  uint64_t boat_first = 0, boat_head = 0;   // the boat's lowest and highest seq (0: none)
  size_t boat_frames = 0, cloud_frames = 0;
  std::vector<uint64_t> boat_gaps;           // seqs in [boat_first, boat_head] the boat itself lacks
  std::vector<uint64_t> missing;             // boat seqs the cloud lacks
  std::vector<uint64_t> duplicated;          // seqs the cloud holds more than once
  std::map<uint64_t, std::vector<std::string>> duplicate_files;  // seq -> the files holding it
  std::vector<uint64_t> extra;               // cloud seqs the boat never had
  std::vector<std::string> differences;      // FrameDifference of the first few seqs that differ
  size_t different = 0;

  bool exact() const {
    return boat_gaps.empty() && missing.empty() && duplicated.empty() && extra.empty() && different == 0;
  }

  std::string Describe() const {
    std::string s = "boat seqs " + std::to_string(boat_first) + ".." + std::to_string(boat_head) + " (" +
                    std::to_string(boat_frames) + " frames), cloud " + std::to_string(cloud_frames) + " frames\n";
    s += "  boat's own gaps (" + std::to_string(boat_gaps.size()) + "): " + SeqRanges(boat_gaps) + "\n";
    s += "  missing at the cloud (" + std::to_string(missing.size()) + "): " + SeqRanges(missing) + "\n";
    s += "  duplicated at the cloud (" + std::to_string(duplicated.size()) + "): " + SeqRanges(duplicated) + "\n";
    size_t shown = 0;
    for (const auto& [seq, files] : duplicate_files) {
      if (++shown > 10) break;
      s += "    seq " + std::to_string(seq) + " in:";
      for (const auto& f : files) s += " " + f.substr(f.find_last_of('/') + 1);
      s += "\n";
    }
    s += "  at the cloud, not on the boat (" + std::to_string(extra.size()) + "): " + SeqRanges(extra) + "\n";
    s += "  frames that differ: " + std::to_string(different) + "\n";
    for (const auto& d : differences) s += "    " + d + "\n";
    return s;
  }
};

// Compares every cloud frame with the boat's frame of the same seq; the
// cloud must hold each boat seq exactly once and nothing else.
inline SeqComparison CompareSeqs(const std::vector<StoredFrame>& boat, const std::vector<StoredFrame>& cloud) {
  SeqComparison c;
  c.boat_frames = boat.size();
  c.cloud_frames = cloud.size();
  std::map<uint64_t, const StoredFrame*> by_seq;
  for (const auto& f : boat) by_seq.emplace(f.seq, &f);
  if (!by_seq.empty()) {
    c.boat_first = by_seq.begin()->first;
    c.boat_head = by_seq.rbegin()->first;
    uint64_t next = c.boat_first;
    for (const auto& [seq, f] : by_seq) {
      for (; next < seq; ++next) c.boat_gaps.push_back(next);
      next = seq + 1;
    }
  }
  std::map<uint64_t, std::vector<std::string>> held;
  for (const auto& f : cloud) held[f.seq].push_back(f.file);
  for (const auto& [seq, files] : held) {
    if (files.size() > 1) {
      c.duplicated.push_back(seq);
      c.duplicate_files[seq] = files;
    }
    if (by_seq.find(seq) == by_seq.end()) c.extra.push_back(seq);
  }
  for (const auto& [seq, f] : by_seq) {
    if (held.find(seq) == held.end()) c.missing.push_back(seq);
  }
  for (const auto& f : cloud) {
    auto it = by_seq.find(f.seq);
    if (it == by_seq.end()) continue;
    const std::string d = FrameDifference(*it->second, f);
    if (d.empty()) continue;
    if (++c.different <= 5) c.differences.push_back(d);
  }
  return c;
}

// One line per journal file of `frames`, in the order of their first seq:
// name, frames, seq range, and how many of its seqs are also elsewhere or
// twice in it, so a duplicate can be traced to the run that wrote it.
inline std::string FileTable(const std::vector<StoredFrame>& frames) {
  struct Row {
    size_t frames = 0;
    uint64_t first = UINT64_MAX, last = 0;
    size_t shared = 0;
  };
  std::map<uint64_t, size_t> copies;
  for (const auto& f : frames) ++copies[f.seq];
  std::map<std::string, Row> rows;
  for (const auto& f : frames) {
    Row& r = rows[f.file];
    ++r.frames;
    r.first = std::min(r.first, f.seq);
    r.last = std::max(r.last, f.seq);
    if (copies[f.seq] > 1) ++r.shared;
  }
  std::vector<std::pair<std::string, Row>> sorted(rows.begin(), rows.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second.first < b.second.first; });
  std::string out;
  for (const auto& [file, r] : sorted) {
    out += "    " + file.substr(file.find_last_of('/') + 1) + ": " + std::to_string(r.frames) + " frames, seqs " +
           std::to_string(r.first) + ".." + std::to_string(r.last) + ", " + std::to_string(r.shared) +
           " duplicated\n";
  }
  return out;
}

}  // namespace lplex::testing
