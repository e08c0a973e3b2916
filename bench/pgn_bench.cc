// pgn_bench: PGN decoding throughput on real traffic (the can0 captures,
// looped), one core. Goal (issue 9): >= 2 M messages/s.
//
//   pgn_bench [--messages N] [--shared PATH]
//
// 1. Loads can0-1.pcap and can0-2.pcap through reassembly (lplex's 74
//    fast-packet PGNs) and joins the fragments of the other fast-packet PGNs
//    canboat knows (B&G 130824 among them), as a StreamDecoder does, keeping
//    each message's payload and its sender's manufacturer (address claims).
// 2. decode:      pgn::Decode (lplex's definitions first, canboat's for the
//                 rest) into one reused DecodedMessage, N messages.
// 3. decode+json: the same, then AppendFieldsJson into one reused string.
// 4. canboat:     decode with canboat's definitions only.
// 5. stream:      StreamDecoder over the stream as reassembly leaves it
//                 (fragments of the other fast-packet PGNs included), N
//                 messages in, whole messages decoded out.
// Times are the thread's CPU time (the machine may be shared) and wall time.
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "bench_util.h"
#include "can/iso_name.h"
#include "capture_corpus.h"
#include "pgn/decoder.h"
#include "pgn/json_writer.h"
#include "pgn/stream_decoder.h"

namespace {

using namespace lplex;

struct Msg {
  uint32_t pgn;
  uint8_t source;
  std::optional<uint16_t> manufacturer;
  uint32_t off;  // into the pool
  uint16_t len;
};

struct Corpus {
  std::vector<Msg> stream;  // as reassembly leaves it (fragments of non-lplex fast-packet PGNs)
  std::vector<Msg> whole;   // fragments joined: what Decode sees
  std::vector<uint8_t> pool;
};

// The can0 captures after reassembly (capture_corpus.h), each message with
// its sender's manufacturer (from the claims seen so far), and the same
// stream with the fragments of PGNs lplex leaves split joined.
Corpus Load(const std::string& shared) {
  const bench::Corpus frames = bench::Load(shared);
  Corpus c;
  pgn::FragmentJoiner joiner;
  std::array<std::optional<uint16_t>, 256> manufacturer_of{};
  for (const bench::Msg& m : frames.msgs) {
    const std::span<const uint8_t> data(frames.pool.data() + m.off, m.len);
    const uint32_t pgn = m.header.pgn;
    const uint8_t src = m.header.source;
    if (pgn == 60928 && data.size() >= 8) {
      uint64_t name_bits = 0;
      for (int i = 7; i >= 0; --i) name_bits = name_bits << 8 | data[static_cast<size_t>(i)];
      manufacturer_of[src] = can::IsoName::Decode(name_bits).manufacturer_code;
    }
    const auto add = [&](std::vector<Msg>* to, std::span<const uint8_t> bytes) {
      to->push_back({pgn, src, manufacturer_of[src], static_cast<uint32_t>(c.pool.size()),
                     static_cast<uint16_t>(bytes.size())});
      c.pool.insert(c.pool.end(), bytes.begin(), bytes.end());
    };
    add(&c.stream, data);
    if (data.size() == 8 && pgn::NeedsJoining(pgn)) {
      const auto joined = joiner.Add(pgn, src, data);
      if (!joined.empty()) add(&c.whole, joined);
    } else {
      add(&c.whole, data);
    }
  }
  return c;
}

using bench::ThreadCpuSeconds;

struct Timer {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = ThreadCpuSeconds();
  void Report(const char* what, uint64_t n, const std::string& extra) const {
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
    const double cpu_s = ThreadCpuSeconds() - cpu;
    std::printf("%-12s %6.2f M messages/s CPU (%6.2f M/s wall; %llu messages, %.2f s CPU)%s\n", what,
                static_cast<double>(n) / cpu_s / 1e6, static_cast<double>(n) / wall_s / 1e6,
                static_cast<unsigned long long>(n), cpu_s, extra.c_str());
  }
};

// Decodes `n` messages of the looped `msgs`; with `json`, writes each too.
void RunDecode(const char* what, const Corpus& c, uint64_t n, pgn::Profile profile, bool json) {
  pgn::DecodedMessage msg;
  std::string out;
  uint64_t decoded = 0;
  uint64_t json_bytes = 0;
  const Timer t;
  for (uint64_t i = 0; i < n; ++i) {
    const Msg& m = c.whole[i % c.whole.size()];
    if (!pgn::Decode(m.pgn, m.manufacturer, {c.pool.data() + m.off, m.len}, &msg, profile)) continue;
    ++decoded;
    if (json) {
      out.clear();
      pgn::AppendFieldsJson(msg, &out);
      json_bytes += out.size();
    }
  }
  std::string extra = "; " + std::to_string(decoded) + " decoded";
  if (json) extra += ", " + std::to_string(json_bytes / std::max<uint64_t>(decoded, 1)) + " JSON bytes/message";
  t.Report(what, n, extra);
}

void RunStream(const Corpus& c, uint64_t n) {
  pgn::StreamDecoder stream;
  uint64_t decoded = 0;
  const Timer t;
  for (uint64_t i = 0; i < n; ++i) {
    const Msg& m = c.stream[i % c.stream.size()];
    if (stream.Decode(m.pgn, m.source, {c.pool.data() + m.off, m.len}, m.manufacturer) != nullptr) ++decoded;
  }
  t.Report("stream", n, "; " + std::to_string(decoded) + " whole messages decoded (fragments joined)");
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t messages = 10'000'000;
  std::string shared = "../shared";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--messages") messages = std::stoull(argv[i + 1]);
    else if (a == "--shared") shared = argv[i + 1];
  }
  const Corpus c = Load(shared);
  std::printf("corpus: can0-1 + can0-2: %zu messages after reassembly, %zu whole messages after joining; "
              "canboat %.*s (data %.*s); looped to %llu messages\n",
              c.stream.size(), c.whole.size(), static_cast<int>(pgn::CanboatPackageVersion().size()),
              pgn::CanboatPackageVersion().data(), static_cast<int>(pgn::CanboatDataVersion().size()),
              pgn::CanboatDataVersion().data(), static_cast<unsigned long long>(messages));
  RunDecode("decode", c, messages, pgn::Profile::kLplexFirst, false);
  RunDecode("decode+json", c, messages, pgn::Profile::kLplexFirst, true);
  RunDecode("canboat", c, messages, pgn::Profile::kCanboat, false);
  RunStream(c, messages);
  return 0;
}
