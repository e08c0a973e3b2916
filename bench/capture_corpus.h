// The can0 captures as a corpus of reassembled messages in memory, and a
// loop that feeds them to a journal writer as many times as a benchmark
// needs (timestamps and seqs moved on each loop). bench/ only.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "can/fast_packet.h"
#include "journal/writer.h"
#include "sources/capture_reader.h"

namespace lplex::bench {

struct Msg {
  int64_t ts;
  can::CanHeader header;
  uint16_t len;
  uint32_t off;  // into the shared byte pool
};

struct Corpus {
  std::vector<Msg> msgs;
  std::vector<uint8_t> pool;
  int64_t span_us = 0;
};

inline Corpus Load(const std::string& shared) {
  Corpus c;
  can::FastPacketAssembler fp;
  for (const char* name : {"can0-1.pcap", "can0-2.pcap"}) {
    auto r = sources::CaptureReader::Open(shared + "/data/captures/" + name, {});
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      std::exit(2);
    }
    can::RawFrame raw;
    can::Frame m;
    while ((*r)->Next(&raw)) {
      if (!raw.extended || !fp.Process(raw, &m)) continue;
      c.msgs.push_back({m.timestamp_us, m.header, static_cast<uint16_t>(m.data.size()),
                        static_cast<uint32_t>(c.pool.size())});
      c.pool.insert(c.pool.end(), m.data.begin(), m.data.end());
    }
  }
  c.span_us = c.msgs.back().ts - c.msgs.front().ts + 1000;
  return c;
}

// Feeds `n` frames of the looped corpus to `w`.
inline void Feed(const Corpus& c, journal::JournalWriter& w, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t loop = i / c.msgs.size();
    const Msg& m = c.msgs[i % c.msgs.size()];
    const can::Frame f{.timestamp_us = m.ts + static_cast<int64_t>(loop) * c.span_us,
                       .header = m.header,
                       .data = {c.pool.data() + m.off, m.len},
                       .seq = i + 1};
    Status s = w.Append(f);
    if (!s.ok()) {
      std::fprintf(stderr, "append: %s\n", s.ToString().c_str());
      std::exit(1);
    }
  }
}

}  // namespace lplex::bench
