#include "core/hex.h"

#include <fmt/format.h>

namespace lplex::hex {
namespace {
constexpr char kLowerDigits[] = "0123456789abcdef";
constexpr char kUpperDigits[] = "0123456789ABCDEF";

const char* Digits(Case letters) { return letters == Case::kUpper ? kUpperDigits : kLowerDigits; }

int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

void AppendEncoded(std::span<const uint8_t> bytes, std::string* out, Case letters) {
  const char* digits = Digits(letters);
  size_t at = out->size();
  out->resize(at + bytes.size() * 2);
  char* p = out->data() + at;
  for (uint8_t b : bytes) {
    *p++ = digits[b >> 4];
    *p++ = digits[b & 0xF];
  }
}

void AppendByte(uint8_t byte, std::string* out, Case letters) {
  const char* digits = Digits(letters);
  out->push_back(digits[byte >> 4]);
  out->push_back(digits[byte & 0xF]);
}

std::string Encode(std::span<const uint8_t> bytes, Case letters) {
  std::string s;
  AppendEncoded(bytes, &s, letters);
  return s;
}

void FormatUint(uint64_t value, std::span<char> out, Case letters) {
  const char* digits = Digits(letters);
  for (size_t i = out.size(); i-- > 0;) {
    out[i] = digits[value & 0xF];
    value >>= 4;
  }
}

Result<std::vector<uint8_t>> Decode(std::string_view text) {
  if (text.size() % 2 != 0) {
    return Status::InvalidArgument(
        fmt::format("hex string \"{}\" has odd length {}; two digits per byte are needed", text, text.size()));
  }
  std::vector<uint8_t> out(text.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = DigitValue(text[2 * i]);
    int lo = DigitValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      size_t pos = hi < 0 ? 2 * i : 2 * i + 1;
      return Status::InvalidArgument(
          fmt::format("hex string \"{}\": '{}' at position {} is not a hex digit (0-9, a-f)", text, text[pos], pos));
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

}  // namespace lplex::hex
