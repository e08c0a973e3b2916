#include "core/instance_id.h"

#include <fmt/format.h>

#include <string>

namespace lplex {
namespace {

bool AllowedChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// The id as it can be shown in a message: at most a screenful, control and
// non-ASCII bytes as \xNN so a hostile id cannot rewrite the terminal.
std::string Quoted(std::string_view id) {
  constexpr size_t kShown = 160;
  std::string out = "\"";
  for (size_t i = 0; i < id.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (id.size() > kShown) out += fmt::format("...\" ({} characters)", id.size());
  else out += "\"";
  return out;
}

// What is wrong with `id`, or null when nothing is.
const char* Problem(std::string_view id) {
  if (id.empty()) return "it is empty";
  if (id.size() > kMaxInstanceIdLength) return "it is too long";
  if (id.front() == '.') return "it starts with '.'";
  for (char c : id) {
    if (!AllowedChar(c)) return "it contains a character other than A-Z a-z 0-9 . _ -";
  }
  return nullptr;
}

}  // namespace

Status ValidateInstanceId(std::string_view id) {
  const char* problem = Problem(id);
  if (problem == nullptr) return Status::Ok();
  const std::string why =
      id.size() > kMaxInstanceIdLength ? fmt::format("it has {} characters", id.size()) : std::string(problem);
  return Status::InvalidArgument(fmt::format(
      "instance id {} is not valid ({}): use 1..{} characters of A-Z a-z 0-9 . _ - (not starting with '.')",
      Quoted(id), why, kMaxInstanceIdLength));
}

bool IsValidInstanceId(std::string_view id) { return Problem(id) == nullptr; }

}  // namespace lplex
