#include "pgn/decoder.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "pgn/bits.h"

namespace lplex::pgn {
namespace {

// canboat's rule for numbers (docs/decoding.md): the field's maximum raw
// value means "not available", and the one below it "error" when the field
// can hold 7 or more. Signed fields use their largest positive values; the
// all-ones pattern is -1, an ordinary number.
NullReason NumberRule(uint64_t raw, unsigned bits, bool is_signed) {
  if (bits < 2 || bits > 64) return NullReason::kNone;
  const uint64_t max = is_signed ? ((uint64_t{1} << (bits - 1)) - 1)
                                 : (bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1);
  if (is_signed && (raw >> (bits - 1)) != 0) return NullReason::kNone;  // negative
  if (raw == max) return NullReason::kNotAvailable;
  if (max >= 7 && raw == max - 1) return NullReason::kError;
  return NullReason::kNone;
}

// Whether `raw` of field `f` stands for "no value" rather than a value.
// `labeled`: a lookup field whose enumeration names this raw value.
NullReason Unavailable(const Definition& d, const Field& f, uint64_t raw, unsigned bits, bool is_signed,
                       bool labeled) {
  if (bits < 2 || bits > 64 || (f.flags & kAllValuesValid)) return NullReason::kNone;
  const uint64_t all_ones = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  if (d.lplex) {
    // lplex HEAD's rule (unsigned and enum fields at all ones, signed fields
    // at their largest positive value), plus the "error" code below it for
    // fields that can hold 7 or more, as NMEA 2000 and canboat define it
    // (HEAD prints 0xFFFE of 127506's time_remaining as 45 days). lplex HEAD
    // also drops a signed -1, a real reading such as a battery current of
    // -0.1 A; we keep it. docs/decoding.md, ADR 012.
    if (f.flags & kNeverUnavailable) return NullReason::kNone;
    const uint64_t max = is_signed ? (all_ones >> 1) : all_ones;
    if (raw == max) return NullReason::kNotAvailable;
    if (max >= 7 && raw == max - 1 && f.type != FieldType::kLookup) return NullReason::kError;
    return NullReason::kNone;
  }
  switch (f.type) {
    case FieldType::kLookup:
    case FieldType::kIndirectLookup:
    case FieldType::kDynamicKey:
      // A labelled value is a value even at the top of the range; an
      // unlabelled one there is unknown (max), error (max-1) or reserved (max-2).
      if (labeled) return NullReason::kNone;
      if (bits == 2) return raw == 3 ? NullReason::kNotAvailable : raw == 2 ? NullReason::kError : NullReason::kNone;
      if (raw == all_ones) return NullReason::kNotAvailable;
      if (raw == all_ones - 1) return NullReason::kError;
      if (raw == all_ones - 2) return NullReason::kReserved;
      return NullReason::kNone;
    case FieldType::kDate:
    case FieldType::kPgn:
      if (raw == all_ones) return NullReason::kNotAvailable;
      if (raw == all_ones - 1) return NullReason::kError;
      if (raw == all_ones - 2) return NullReason::kReserved;
      return NullReason::kNone;
    case FieldType::kIsoName:
      return raw == all_ones ? NullReason::kNotAvailable : raw == all_ones - 1 ? NullReason::kError : NullReason::kNone;
    default:
      return NumberRule(raw, bits, is_signed);
  }
}

const char* FindLabel(const Lookup& lookup, uint64_t value) {
  const LookupValue* begin = lookup.values;
  const LookupValue* end = lookup.values + lookup.count;
  const LookupValue* it =
      std::lower_bound(begin, end, value, [](const LookupValue& v, uint64_t x) { return v.value < x; });
  return (it != end && it->value == value) ? it->label : nullptr;
}

const char* FindIndirectLabel(const IndirectLookup& lookup, uint64_t value1, uint64_t value2) {
  for (uint32_t i = 0; i < lookup.count; ++i) {
    if (lookup.values[i].value1 == value1 && lookup.values[i].value2 == value2) return lookup.values[i].label;
  }
  return nullptr;
}

const DynamicType* FindDynamicType(const DynamicTypes& set, uint64_t key) {
  const DynamicType* begin = set.values;
  const DynamicType* end = set.values + set.count;
  const DynamicType* it = std::lower_bound(begin, end, key, [](const DynamicType& t, uint64_t k) { return t.key < k; });
  return (it != end && it->key == key) ? it : nullptr;
}

// `bytes` as lowercase hex digits appended to `out`.
void AppendHex(std::string& out, std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
}

bool IsPaddingByte(uint8_t c) { return c == 0x00 || c == 0xFF; }

// A field's text: up to the first 0x00 or 0xFF, then without the trailing
// `trim` characters (lplex) or canboat's padding ('@', white space).
std::string_view CleanString(std::span<const uint8_t> bytes, const char* trim) {
  size_t n = 0;
  while (n < bytes.size() && !IsPaddingByte(bytes[n])) ++n;
  std::string_view s(reinterpret_cast<const char*>(bytes.data()), n);
  while (!s.empty() && std::strchr(trim, s.back()) != nullptr) s.remove_suffix(1);
  return s;
}

constexpr const char* kCanboatPadding = "@ \t\n\v\f\r";

// Walks one definition over one payload, appending nodes to `out`.
class FieldWalker {
 public:
  FieldWalker(const Definition& def, std::span<const uint8_t> payload, DecodedMessage* out)
      : def_(def), payload_(payload), out_(out), total_bits_(payload.size() * 8) {}

  void Run() {
    const auto fields = def_.Fields();
    size_t i = 0;
    while (i < fields.size() && !stopped_) {
      const RepeatSet* set = SetStartingAt(i);
      if (set != nullptr) {
        WalkSet(*set);
        i += set->size;
        continue;
      }
      DecodeField(i);
      ++i;
    }
  }

 private:
  const RepeatSet* SetStartingAt(size_t i) const {
    for (const RepeatSet& s : def_.sets) {
      if (s.start >= 0 && static_cast<size_t>(s.start) == i && s.size > 0) return &s;
    }
    return nullptr;
  }

  // Bits one repetition of `set` takes, or 0 when a field in it has no
  // fixed width.
  size_t SetBits(const RepeatSet& set) const {
    size_t bits = 0;
    for (uint16_t j = 0; j < set.size; ++j) {
      const Field& f = def_.fields[static_cast<size_t>(set.start) + j];
      if (f.bit_length == 0) return 0;
      bits += f.bit_length * static_cast<size_t>(f.repeat > 0 ? f.repeat : 1);
    }
    return bits;
  }

  // A repeating set: as many repetitions as its count field says (all of
  // them, "not available" included, as canboat does), or until the payload
  // ends when it has none; never past the payload. lplex counts only whole
  // repetitions and leaves the key out when there are none.
  void WalkSet(const RepeatSet& set) {
    uint64_t limit = UINT64_MAX;
    if (set.count_field >= 0) {
      if (!have_raw_[set.count_field]) return;  // the count was not in the payload
      limit = raw_[set.count_field];
    }
    const size_t whole = def_.lplex ? SetBits(set) : 0;
    const size_t mark_set = out_->node_count();
    out_->Add(NodeKind::kBeginArray, set.key, nullptr);
    uint64_t reps = 0;
    for (; reps < limit && pos_ < total_bits_ && !stopped_; ++reps) {
      if (whole > 0 && pos_ + whole > total_bits_) break;
      const size_t mark = out_->node_count();
      const size_t start_pos = pos_;
      out_->Add(NodeKind::kBeginObject, nullptr, nullptr);
      for (uint16_t j = 0; j < set.size && !stopped_; ++j) DecodeField(static_cast<size_t>(set.start) + j);
      if (pos_ == start_pos) {  // nothing consumed: an empty repetition would loop forever
        out_->Truncate(mark);
        break;
      }
      out_->Add(NodeKind::kEnd, nullptr, nullptr);
    }
    if (reps == 0 && def_.lplex) {
      out_->Truncate(mark_set);
      return;
    }
    // A set cut short by the end of the payload ends the message there.
    out_->Add(NodeKind::kEnd, nullptr, nullptr);
  }

  // Whether a field of `bits` bits at the current position was sent. lplex
  // pads short payloads with 0xFF (so its fields always "fit" and come out
  // as not available). For canboat a field past the end was not sent: the
  // message ends there; a field cut by the end is there but unreadable: null.
  bool Fits(const Field& f, const char* key, size_t bits) {
    if (def_.lplex || pos_ + bits <= total_bits_) return true;
    if (pos_ < total_bits_) Null(f, key, NullReason::kMissing);
    stopped_ = true;
    return false;
  }

  // The raw value of field `index` of a fixed layout (pgngen checks that
  // every field up to it has a fixed width), read from the payload.
  uint64_t FixedFieldValue(size_t index) const {
    size_t offset = 0;
    for (size_t k = 0; k < index; ++k) offset += def_.fields[k].bit_length;
    const unsigned bits = def_.fields[index].bit_length;
    return bits == 0 || bits > 64 ? 0 : ReadBits(payload_, offset, bits);
  }

  void Remember(size_t index, uint64_t raw) {
    if (index < raw_.size()) {
      raw_[index] = raw;
      have_raw_[index] = true;
    }
  }

  void DecodeField(size_t index) {
    const Field& f = def_.fields[index];
    if ((f.flags & kProprietaryOnly) && !(have_pgn_ && IsProprietary(static_cast<uint32_t>(last_pgn_)))) return;
    switch (f.type) {
      case FieldType::kReserved:
      case FieldType::kSpare: {
        size_t bits = f.bit_length * static_cast<size_t>(f.repeat > 0 ? f.repeat : 1);
        if (bits == 0) bits = total_bits_ > pos_ ? total_bits_ - pos_ : 0;
        pos_ += bits;
        return;
      }
      case FieldType::kStringFix:
        DecodeFixedString(f);
        return;
      case FieldType::kStringLz:
        DecodeLzString(f);
        return;
      case FieldType::kStringLau:
        DecodeLauString(f);
        return;
      case FieldType::kBinary:
        DecodeBinary(f);
        return;
      case FieldType::kDecimal:
        DecodeDecimal(f);
        return;
      case FieldType::kDynamicValue:
        DecodeDynamicValue(f);
        return;
      case FieldType::kVariable:
        DecodeVariable(f);
        return;
      default:
        break;
    }
    if (f.bit_length == 0 || f.bit_length > 64) {  // never produced by pgngen for these types
      stopped_ = true;
      return;
    }
    if (f.repeat > 0) {
      DecodeRepeated(f);
      return;
    }
    if (!Fits(f, f.key, f.bit_length)) return;
    const uint64_t raw = ReadBits(payload_, pos_, f.bit_length);
    pos_ += f.bit_length;
    Remember(index, raw);
    AddScalar(f, f.key, raw);
  }

  // lplex `repeat=N`: N values in an array, or in an object keyed "1".."N".
  void DecodeRepeated(const Field& f) {
    const bool map = f.flags & kMapRepeat;
    out_->Add(map ? NodeKind::kBeginObject : NodeKind::kBeginArray, f.key, nullptr);
    for (uint16_t k = 0; k < f.repeat; ++k) {
      const uint64_t raw = ReadBits(payload_, pos_, f.bit_length);
      pos_ += f.bit_length;
      Node& n = AddScalar(f, nullptr, raw);
      if (map) n.index = k + 1u;
    }
    out_->Add(NodeKind::kEnd, nullptr, nullptr);
  }

  // One fixed-width value of `f` (number, lookup, time, ...).
  Node& AddScalar(const Field& f, const char* key, uint64_t raw) {
    const bool is_signed = f.flags & kSigned;
    const unsigned bits = f.bit_length;
    switch (f.type) {
      case FieldType::kFloat: {
        double v;
        if (bits == 32) {
          v = std::bit_cast<float>(static_cast<uint32_t>(raw));
        } else {
          v = std::bit_cast<double>(raw);
        }
        if (std::isnan(v) || std::isinf(v)) return Null(f, key, NullReason::kNotAvailable);
        Node& n = out_->Add(NodeKind::kDouble, key, &f);
        n.real = v;
        return n;
      }
      case FieldType::kLookup: {
        const char* label = f.lookup >= 0 ? FindLabel(Lookups()[f.lookup], raw) : nullptr;
        const NullReason why = Unavailable(def_, f, raw, bits, false, label != nullptr);
        if (why != NullReason::kNone) return Null(f, key, why);
        Node& n = out_->Add(NodeKind::kLookup, key, &f);
        n.number = static_cast<int64_t>(raw);
        n.label = label;
        return n;
      }
      case FieldType::kIndirectLookup: {
        // The other field may come later (60928's device class follows its
        // device function): read it from its fixed position in the payload.
        const uint64_t value1 = f.related >= 0 ? FixedFieldValue(static_cast<size_t>(f.related)) : 0;
        const char* label = f.lookup >= 0 ? FindIndirectLabel(IndirectLookups()[f.lookup], value1, raw) : nullptr;
        const NullReason why = Unavailable(def_, f, raw, bits, false, label != nullptr);
        if (why != NullReason::kNone) return Null(f, key, why);
        Node& n = out_->Add(NodeKind::kLookup, key, &f);
        n.number = static_cast<int64_t>(raw);
        n.label = label;
        return n;
      }
      case FieldType::kDynamicKey: {
        dynamic_type_ = f.lookup >= 0 ? FindDynamicType(DynamicTypeSets()[f.lookup], raw) : nullptr;
        dynamic_length_bits_.reset();
        const NullReason why = Unavailable(def_, f, raw, bits, false, dynamic_type_ != nullptr);
        if (why != NullReason::kNone) return Null(f, key, why);
        Node& n = out_->Add(NodeKind::kLookup, key, &f);
        n.number = static_cast<int64_t>(raw);
        n.label = dynamic_type_ != nullptr ? dynamic_type_->label : nullptr;
        return n;
      }
      case FieldType::kDynamicLength:
        dynamic_length_bits_ = raw * 8;
        break;
      case FieldType::kBitLookup:
        return AddBitLookup(f, key, raw, f.lookup);
      case FieldType::kPgn:
        last_pgn_ = raw;
        have_pgn_ = true;
        break;
      case FieldType::kFieldIndex:
        last_field_index_ = raw;
        break;
      case FieldType::kIsoName: {
        const NullReason why = Unavailable(def_, f, raw, bits, false, false);
        if (why != NullReason::kNone) return Null(f, key, why);
        Node& n = out_->Add(NodeKind::kString, key, &f);
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(raw));
        out_->SetText(n, std::string_view(buf, 16));
        return n;
      }
      default:
        break;
    }
    const NullReason why = Unavailable(def_, f, raw, bits, is_signed, false);
    if (why != NullReason::kNone) return Null(f, key, why);
    if (!is_signed && raw > static_cast<uint64_t>(INT64_MAX)) {
      // A 64-bit unsigned value past int64 (126987's threshold, 130833's
      // memory sizes): a double, not a negative integer.
      Node& n = out_->Add(NodeKind::kDouble, key, &f);
      n.real = (static_cast<double>(raw) + static_cast<double>(f.raw_offset)) * f.resolution + f.offset;
      return n;
    }
    const int64_t value = (is_signed ? SignExtend(raw, bits) : static_cast<int64_t>(raw)) + f.raw_offset;
    switch (f.type) {
      case FieldType::kDate:
        return AddDate(f, key, value);
      case FieldType::kTime:
        return AddTimeOfDay(f, key, value);
      case FieldType::kMmsi: {
        Node& n = out_->Add(NodeKind::kString, key, &f);
        char buf[24];
        const int len = std::snprintf(buf, sizeof buf, "%09lld", static_cast<long long>(value));
        out_->SetText(n, std::string_view(buf, static_cast<size_t>(len)));
        return n;
      }
      default:
        break;
    }
    if (f.flags & kScaled) {
      Node& n = out_->Add(NodeKind::kDouble, key, &f);
      // lplex's order of IEEE operations: float64(raw) * scale, then + offset.
      double v = static_cast<double>(value) * f.resolution;
      if (f.offset != 0) v += f.offset;
      n.real = v;
      return n;
    }
    Node& n = out_->Add(NodeKind::kInt, key, &f);
    n.number = value;
    return n;
  }

  // A value that is not there: null, or (lplex's layouts, as lplex HEAD)
  // no key at all.
  Node& Null(const Field& f, const char* key, NullReason why) {
    if (def_.omit_unavailable) {
      scratch_ = Node{};
      return scratch_;
    }
    Node& n = out_->Add(NodeKind::kNull, key, &f);
    n.null_reason = why;
    return n;
  }

  // The labels of the bits set in `raw`; a bit without a label gives its number.
  Node& AddBitLookup(const Field& f, const char* key, uint64_t raw, int lookup) {
    const size_t begin = out_->node_count();
    out_->Add(NodeKind::kBeginArray, key, &f);
    for (unsigned bit = 0; bit < 64; ++bit) {
      if (!((raw >> bit) & 1)) continue;
      const char* label = nullptr;
      if (lookup >= 0) {
        const BitLookup& bl = BitLookups()[lookup];
        for (uint32_t i = 0; i < bl.count; ++i) {
          if (bl.values[i].bit == bit) label = bl.values[i].label;
        }
      }
      Node& n = out_->Add(NodeKind::kLookup, nullptr, &f);
      n.number = static_cast<int64_t>(uint64_t{1} << bit);  // an unnamed bit: its value, as canboat prints it
      n.label = label;
    }
    out_->Add(NodeKind::kEnd, nullptr, nullptr);
    return const_cast<Node&>(out_->nodes()[begin]);
  }

  // Days since 1970-01-01 as "YYYY-MM-DD" (proleptic Gregorian calendar).
  Node& AddDate(const Field& f, const char* key, int64_t days) {
    // Howard Hinnant's civil-from-days algorithm.
    const int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const int64_t m = mp < 10 ? mp + 3 : mp - 9;
    const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    char buf[32];
    const int len = std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y),
                                  static_cast<long long>(m), static_cast<long long>(d));
    Node& n = out_->Add(NodeKind::kString, key, &f);
    out_->SetText(n, std::string_view(buf, static_cast<size_t>(len)));
    return n;
  }

  // Seconds since midnight × resolution as "HH:MM:SS[.fraction]", with as
  // many fraction digits as the resolution has.
  Node& AddTimeOfDay(const Field& f, const char* key, int64_t raw) {
    int digits = 0;
    int64_t per_second = 1;
    for (double r = f.resolution; r < 0.999999 && digits < 6; r *= 10) {
      ++digits;
      per_second *= 10;
    }
    // raw × resolution seconds, in units of 10^-digits s.
    const double units = static_cast<double>(raw) * f.resolution * static_cast<double>(per_second);
    const int64_t total = static_cast<int64_t>(std::llround(units));
    const int64_t secs = total / per_second;
    const int64_t frac = total % per_second;
    char buf[64];
    int len = std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                            static_cast<long long>((secs / 60) % 60), static_cast<long long>(secs % 60));
    if (digits > 0) {
      len += std::snprintf(buf + len, sizeof buf - static_cast<size_t>(len), ".%0*lld", digits,
                           static_cast<long long>(frac));
    }
    Node& n = out_->Add(NodeKind::kString, key, &f);
    out_->SetText(n, std::string_view(buf, static_cast<size_t>(len)));
    return n;
  }

  std::span<const uint8_t> Bytes(size_t bit_offset, size_t byte_count) const {
    const size_t first = bit_offset / 8;
    if (first >= payload_.size()) return {};
    return payload_.subspan(first, std::min(byte_count, payload_.size() - first));
  }

  // A text value; canboat counts an empty text as not available.
  void AddText(const Field& f, std::string_view text) {
    if (text.empty() && !def_.lplex) {
      Null(f, f.key, NullReason::kNotAvailable);
      return;
    }
    Node& n = out_->Add(NodeKind::kString, f.key, &f);
    out_->SetText(n, text);
  }

  void DecodeFixedString(const Field& f) {
    size_t bits = f.bit_length;
    if (bits == 0 && f.related >= 0) bits = raw_[f.related];
    if (!Fits(f, f.key, bits)) return;
    const std::string_view s = CleanString(Bytes(pos_, bits / 8), def_.lplex ? f.trim : kCanboatPadding);
    pos_ += bits;
    AddText(f, s);
  }

  // Length byte L, L bytes, a terminating 0x00 (canboat: STRING_LZ).
  void DecodeLzString(const Field& f) {
    if (!Fits(f, f.key, 8)) return;
    const size_t len = ReadBits(payload_, pos_, 8);
    pos_ += 8;
    if (!Fits(f, f.key, len * 8)) return;
    const std::string_view s = CleanString(Bytes(pos_, len), kCanboatPadding);
    pos_ += len * 8;
    if (pos_ + 8 <= total_bits_ && ReadBits(payload_, pos_, 8) == 0) pos_ += 8;  // the terminator
    AddText(f, s);
  }

  // Length byte L (counting itself and the encoding byte), encoding byte
  // (0 = UTF-16LE, 1 = ASCII/UTF-8), L - 2 bytes of text. Another encoding
  // byte, or L < 2: not a string (null), and the L bytes are skipped.
  void DecodeLauString(const Field& f) {
    if (!Fits(f, f.key, 16)) return;
    const size_t len = ReadBits(payload_, pos_, 8);
    const uint64_t encoding = ReadBits(payload_, pos_ + 8, 8);
    const size_t text_bytes = len >= 2 ? len - 2 : 0;
    if (!Fits(f, f.key, 16 + text_bytes * 8)) return;
    pos_ += 16;
    const std::span<const uint8_t> bytes = Bytes(pos_, text_bytes);
    pos_ += text_bytes * 8;
    if (len < 2 || encoding > 1) {
      Null(f, f.key, NullReason::kError);
      return;
    }
    if (encoding == 1) {
      AddText(f, CleanString(bytes, kCanboatPadding));
      return;
    }
    std::string& text = out_->text_buffer();
    const size_t begin = text.size();
    for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
      uint32_t c = bytes[i] | (static_cast<uint32_t>(bytes[i + 1]) << 8);
      if (c == 0 || c == 0xFFFF) break;
      if (c >= 0xD800 && c <= 0xDBFF && i + 3 < bytes.size()) {
        const uint32_t low = bytes[i + 2] | (static_cast<uint32_t>(bytes[i + 3]) << 8);
        if (low >= 0xDC00 && low <= 0xDFFF) {
          c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
          i += 2;
        }
      }
      AppendUtf8(text, c);
    }
    while (text.size() > begin && (text.back() == ' ' || text.back() == '@')) text.pop_back();
    if (text.size() == begin) {
      Null(f, f.key, NullReason::kNotAvailable);
      return;
    }
    Node& n = out_->Add(NodeKind::kString, f.key, &f);
    n.text_begin = static_cast<uint32_t>(begin);
    n.text_size = static_cast<uint32_t>(text.size() - begin);
  }

  // `c` as UTF-8; a lone surrogate half becomes U+FFFD.
  static void AppendUtf8(std::string& out, uint32_t c) {
    if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }

  // Opaque bits as lowercase hex: a fixed width, the width an earlier field
  // gives (in bits), or the rest of the payload.
  // A binary field cut by the end of the payload shows the bytes that are
  // there (canboat does; catch-all definitions are such fields), and the
  // message ends with it.
  void DecodeBinary(const Field& f) {
    size_t bits = f.bit_length;
    if (bits == 0) bits = f.related >= 0 ? raw_[f.related] : (total_bits_ > pos_ ? total_bits_ - pos_ : 0);
    if (bits == 0) return;
    if (pos_ >= total_bits_) {
      stopped_ = true;
      return;
    }
    if (pos_ + bits > total_bits_) {
      bits = total_bits_ - pos_;
      stopped_ = true;
    }
    AddHex(f, pos_, bits);
    pos_ += bits;
  }

  // `bits` bits from `bit_offset` as a hex string node of field `f`.
  void AddHex(const Field& f, size_t bit_offset, size_t bits) {
    Node& n = out_->Add(NodeKind::kString, f.key, &f);
    std::string& text = out_->text_buffer();
    n.text_begin = static_cast<uint32_t>(text.size());
    if (bit_offset % 8 == 0 && bits % 8 == 0) {
      AppendHex(text, Bytes(bit_offset, bits / 8));
    } else {  // the last byte keeps only this field's bits, not the next field's
      for (size_t done = 0; done < bits; done += 8) {
        const auto b = static_cast<uint8_t>(ReadBits(payload_, bit_offset + done, std::min<size_t>(8, bits - done)));
        AppendHex(text, std::span<const uint8_t>(&b, 1));
      }
    }
    n.text_size = static_cast<uint32_t>(text.size() - n.text_begin);
  }

  // Binary-coded decimal: two digits a byte, most significant first.
  void DecodeDecimal(const Field& f) {
    if (!Fits(f, f.key, f.bit_length)) return;
    const std::span<const uint8_t> bytes = Bytes(pos_, f.bit_length / 8);
    pos_ += f.bit_length;
    std::string digits;
    for (uint8_t b : bytes) {
      if ((b >> 4) > 9 || (b & 15) > 9) {  // not BCD: not available
        Null(f, f.key, NullReason::kNotAvailable);
        return;
      }
      digits += static_cast<char>('0' + (b >> 4));
      digits += static_cast<char>('0' + (b & 15));
    }
    Node& n = out_->Add(NodeKind::kString, f.key, &f);
    out_->SetText(n, digits);
  }

  // The value of a key/value pair: its type comes from the key; its width
  // from the pair's length field when there is one, else from the type.
  void DecodeDynamicValue(const Field& f) {
    const DynamicType* type = dynamic_type_;
    // The pair's length wins over the type's width (B&G sends some 16-bit
    // keys in 4 bytes); a length of 0 or none leaves the type's width.
    size_t bits = dynamic_length_bits_ && *dynamic_length_bits_ > 0 ? *dynamic_length_bits_
                                                                     : (type != nullptr ? type->bit_length : 0);
    if (bits == 0) {
      // No width (no length, and no type that has one): the rest of the
      // payload cannot be split into pairs any more.
      DecodeBinary(f);
      stopped_ = true;
      return;
    }
    if (!Fits(f, f.key, bits)) return;
    if (type == nullptr || bits > 64 ||
        (type->type != FieldType::kNumber && type->type != FieldType::kLookup &&
         type->type != FieldType::kBitLookup && type->type != FieldType::kDuration)) {
      AddHex(f, pos_, bits);  // an unknown key (or a type we do not decode): its bytes
      pos_ += bits;
      return;
    }
    const uint64_t raw = ReadBits(payload_, pos_, static_cast<unsigned>(bits));
    pos_ += bits;
    const unsigned width = static_cast<unsigned>(bits);
    if (type->type == FieldType::kBitLookup) {
      AddBitLookup(f, f.key, raw, type->lookup);
      return;
    }
    if (type->type == FieldType::kLookup) {
      const char* label = type->lookup >= 0 ? FindLabel(Lookups()[type->lookup], raw) : nullptr;
      if (label == nullptr && NumberRule(raw, width, false) != NullReason::kNone) {
        Null(f, f.key, NumberRule(raw, width, false));
        return;
      }
      Node& n = out_->Add(NodeKind::kLookup, f.key, &f);
      n.number = static_cast<int64_t>(raw);
      n.label = label;
      return;
    }
    const NullReason why = NumberRule(raw, width, type->is_signed);
    if (why != NullReason::kNone) {
      Null(f, f.key, why);
      return;
    }
    const int64_t value = type->is_signed ? SignExtend(raw, width) : static_cast<int64_t>(raw);
    if (type->resolution != 1) {
      Node& n = out_->Add(NodeKind::kDouble, f.key, &f);
      n.real = static_cast<double>(value) * type->resolution;
    } else {
      Node& n = out_->Add(NodeKind::kInt, f.key, &f);
      n.number = value;
    }
  }

  // A field of another PGN (126208 group functions): the earlier kPgn field
  // names the PGN, the kFieldIndex field the field (1-based). Its width is
  // that field's, rounded up to whole bytes. Unknown: nothing more can be read.
  void DecodeVariable(const Field& f) {
    const Field* target = nullptr;
    if (have_pgn_) {
      for (const Definition& d : DefinitionsOf(CanboatDefinitions(), static_cast<uint32_t>(last_pgn_))) {
        if (d.fallback) continue;  // a catch-all's fields are not the PGN's
        if (last_field_index_ >= 1 && last_field_index_ <= d.field_count) {
          target = &d.fields[last_field_index_ - 1];
          break;
        }
      }
    }
    if (target == nullptr || target->bit_length == 0 || target->bit_length > 64 || target->repeat > 0) {
      DecodeBinary(f);
      stopped_ = true;
      return;
    }
    const unsigned bits = (target->bit_length + 7u) / 8u * 8u;
    if (!Fits(f, f.key, bits)) return;
    uint64_t raw = ReadBits(payload_, pos_, target->bit_length);
    pos_ += bits;
    if (target->type == FieldType::kStringFix || target->type == FieldType::kBinary ||
        target->type == FieldType::kDecimal || target->type == FieldType::kReserved ||
        target->type == FieldType::kSpare) {
      AddHex(f, pos_ - bits, bits);
      return;
    }
    // Decoded as the target field, keyed as this one. The target belongs to
    // another definition: its own bookkeeping (a PGN field naming the PGN of
    // the following pairs, an indirect lookup reading a field of its own
    // definition, a key choosing a dynamic type) must not touch this walk.
    const uint64_t saved_pgn = last_pgn_, saved_index = last_field_index_;
    const bool saved_have_pgn = have_pgn_;
    const DynamicType* saved_type = dynamic_type_;
    const std::optional<uint64_t> saved_length = dynamic_length_bits_;
    if (target->type == FieldType::kIndirectLookup) {
      Field plain = *target;  // without the other definition's first field, only the number is known
      plain.type = FieldType::kNumber;
      plain.lookup = -1;
      plain.related = -1;
      Node& n = AddScalar(plain, f.key, raw);
      n.field = &f;  // `plain` is a temporary; the node points at this definition's field
    } else {
      AddScalar(*target, f.key, raw);
    }
    last_pgn_ = saved_pgn;
    last_field_index_ = saved_index;
    have_pgn_ = saved_have_pgn;
    dynamic_type_ = saved_type;
    dynamic_length_bits_ = saved_length;
  }

  const Definition& def_;
  std::span<const uint8_t> payload_;
  DecodedMessage* out_;
  size_t total_bits_;
  size_t pos_ = 0;
  bool stopped_ = false;
  std::array<uint64_t, 64> raw_{};
  std::array<bool, 64> have_raw_{};
  uint64_t last_pgn_ = 0;
  bool have_pgn_ = false;
  uint64_t last_field_index_ = 0;
  const DynamicType* dynamic_type_ = nullptr;
  std::optional<uint64_t> dynamic_length_bits_;
  Node scratch_;  // what Null() hands back when the value is left out
};

bool RulesHold(const Definition& d, std::span<const uint8_t> payload) {
  for (const MatchRule& r : d.Matches()) {
    if (!BitsAvailable(payload, r.bit_offset, r.bit_length)) return false;
    if (ReadBits(payload, r.bit_offset, r.bit_length) != static_cast<uint64_t>(r.value)) return false;
  }
  return true;
}

// The manufacturer rule of a proprietary definition: 11 bits at bit 0.
bool IsManufacturerRule(const MatchRule& r) { return r.bit_offset == 0 && r.bit_length == 11; }
bool IsIndustryRule(const MatchRule& r) { return r.bit_offset == 13 && r.bit_length == 3; }

// Like RulesHold, with the company fields taken from the sender's claim
// instead of the payload (devices that leave them out).
bool RulesHoldForManufacturer(const Definition& d, std::span<const uint8_t> payload, uint16_t manufacturer) {
  bool has_manufacturer_rule = false;
  for (const MatchRule& r : d.Matches()) {
    if (IsManufacturerRule(r)) {
      if (r.value != manufacturer) return false;
      has_manufacturer_rule = true;
    } else if (IsIndustryRule(r)) {
      continue;
    } else if (!BitsAvailable(payload, r.bit_offset, r.bit_length) ||
               ReadBits(payload, r.bit_offset, r.bit_length) != static_cast<uint64_t>(r.value)) {
      return false;
    }
  }
  return has_manufacturer_rule;
}

const Definition* Choose(std::span<const Definition> defs, std::optional<uint16_t> manufacturer,
                         std::span<const uint8_t> payload) {
  const Definition* unconstrained = nullptr;
  const Definition* fallback = nullptr;
  for (const Definition& d : defs) {
    if (d.fallback) {
      if (fallback == nullptr && d.field_count > 0) fallback = &d;
      continue;
    }
    if (d.match_count == 0) {
      if (unconstrained == nullptr) unconstrained = &d;
      continue;
    }
    if (RulesHold(d, payload)) return &d;
  }
  if (manufacturer) {
    for (const Definition& d : defs) {
      if (!d.fallback && d.match_count > 0 && RulesHoldForManufacturer(d, payload, *manufacturer)) return &d;
    }
  }
  return unconstrained != nullptr ? unconstrained : fallback;
}

}  // namespace

bool IsProprietary(uint32_t pgn) {
  return pgn == 61184 || (pgn >= 65280 && pgn <= 65535) || pgn == 126720 || (pgn >= 130816 && pgn <= 131071);
}

std::span<const Definition> DefinitionsOf(std::span<const Definition> table, uint32_t pgn) {
  auto lo = std::lower_bound(table.begin(), table.end(), pgn, [](const Definition& d, uint32_t p) { return d.pgn < p; });
  auto hi = lo;
  while (hi != table.end() && hi->pgn == pgn) ++hi;
  return std::span<const Definition>(table.data() + (lo - table.begin()), static_cast<size_t>(hi - lo));
}

std::string_view PgnDescription(uint32_t pgn) {
  // lplex keeps one description per PGN: its unconstrained variant's, else
  // its name-only line's, else its first variant's.
  const Definition* unconstrained = nullptr;
  const Definition* name_only = nullptr;
  const Definition* first = nullptr;
  for (const Definition& d : DefinitionsOf(LplexDefinitions(), pgn)) {
    if (d.fallback) {
      if (name_only == nullptr) name_only = &d;
      continue;
    }
    if (first == nullptr) first = &d;
    if (d.match_count == 0 && unconstrained == nullptr) unconstrained = &d;
  }
  if (unconstrained != nullptr) return unconstrained->description;
  if (name_only != nullptr) return name_only->description;
  if (first != nullptr) return first->description;
  const auto canboat = DefinitionsOf(CanboatDefinitions(), pgn);
  for (const Definition& d : canboat) {
    if (!d.fallback) return d.description;
  }
  return canboat.empty() ? std::string_view() : std::string_view(canboat.front().description);
}

std::string_view LookupLabel(std::string_view lookup, uint64_t value) {
  for (const Lookup& l : Lookups()) {
    if (lookup == l.name) {
      const char* label = FindLabel(l, value);
      return label != nullptr ? label : "";
    }
  }
  return "";
}

std::string_view IndirectLookupLabel(std::string_view lookup, uint64_t value1, uint64_t value2) {
  for (const IndirectLookup& l : IndirectLookups()) {
    if (lookup == l.name) {
      const char* label = FindIndirectLabel(l, value1, value2);
      return label != nullptr ? label : "";
    }
  }
  return "";
}

const Definition* FindDefinition(uint32_t pgn, std::optional<uint16_t> manufacturer,
                                 std::span<const uint8_t> payload, Profile profile) {
  if (profile == Profile::kLplexFirst) {
    const Definition* d = Choose(DefinitionsOf(LplexDefinitions(), pgn), manufacturer, payload);
    if (d != nullptr) return d;
  }
  const Definition* d = Choose(DefinitionsOf(CanboatDefinitions(), pgn), manufacturer, payload);
  if (d != nullptr) return d;
  // No definition of this PGN applies (an unknown PGN, or a proprietary one
  // from a maker canboat has no variant for): the catch-all of its range
  // (the last Fallback definition at or below it), which shows the payload
  // as hex, as canboat's analyzer does.
  const auto table = CanboatDefinitions();
  const auto same = DefinitionsOf(table, pgn);
  for (size_t i = static_cast<size_t>(same.data() - table.data()) + same.size(); i-- > 0;) {
    if (table[i].fallback && table[i].field_count > 0) return &table[i];
  }
  return nullptr;
}

bool DecodeWith(const Definition& def, std::span<const uint8_t> payload, DecodedMessage* out) {
  out->Reset(&def);
  if (payload.size() < def.min_length) {
    out->SetError("payload of " + std::to_string(payload.size()) + " bytes is shorter than the " +
                  std::to_string(def.min_length) + " bytes " + def.description + " needs");
    return false;
  }
  FieldWalker(def, payload, out).Run();
  return true;
}

bool Decode(uint32_t pgn, std::optional<uint16_t> manufacturer, std::span<const uint8_t> payload,
            DecodedMessage* out, Profile profile) {
  const Definition* def = FindDefinition(pgn, manufacturer, payload, profile);
  if (def == nullptr) {
    out->Reset(nullptr);
    return false;
  }
  return DecodeWith(*def, payload, out);
}

const Node* DecodedMessage::TopLevel(std::string_view key) const {
  int depth = 0;
  for (const Node& n : nodes_) {
    if (depth == 0 && n.key != nullptr && key == n.key) return &n;
    if (n.kind == NodeKind::kBeginArray || n.kind == NodeKind::kBeginObject) ++depth;
    if (n.kind == NodeKind::kEnd) --depth;
  }
  return nullptr;
}

}  // namespace lplex::pgn
