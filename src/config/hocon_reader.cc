#include "config/hocon_reader.h"

#include <hocon/config.hpp>
#include <hocon/config_exception.hpp>
#include <hocon/config_list.hpp>
#include <hocon/config_object.hpp>
#include <hocon/config_parse_options.hpp>
#include <hocon/config_value.hpp>

#include <algorithm>
#include <exception>
#include <memory>

namespace lplex::config {
namespace {

bool IsPlainSegment(const std::string& s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// A segment as it would be written in a HOCON path.
std::string PathSegment(const std::string& s) {
  if (IsPlainSegment(s)) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Converts one value; returns false for null (the caller leaves it out).
bool Convert(const hocon::shared_value& v, HoconValue* out) {
  using T = hocon::config_value::type;
  switch (v->value_type()) {
    case T::CONFIG_NULL:
    case T::UNSPECIFIED:
      return false;
    case T::STRING:
      out->type = HoconValue::Type::kString;
      out->text = v->transform_to_string();
      return true;
    case T::NUMBER:
      out->type = HoconValue::Type::kNumber;
      out->text = v->transform_to_string();
      return true;
    case T::BOOLEAN:
      out->type = HoconValue::Type::kBool;
      out->text = v->transform_to_string();
      return true;
    case T::LIST: {
      out->type = HoconValue::Type::kList;
      auto list = std::dynamic_pointer_cast<const hocon::config_list>(v);
      if (list == nullptr) return false;
      for (const hocon::shared_value& e : *list) {
        HoconValue element;
        // A null element keeps its place, as an empty string, so that the
        // index in an error message matches the file.
        if (!Convert(e, &element)) element = HoconValue{};
        out->elements.push_back(std::move(element));
      }
      return true;
    }
    case T::OBJECT: {
      out->type = HoconValue::Type::kObject;
      auto object = std::dynamic_pointer_cast<const hocon::config_object>(v);
      if (object == nullptr) return false;
      std::vector<std::string> keys = object->key_set();
      std::sort(keys.begin(), keys.end());
      for (const std::string& k : keys) {
        HoconValue field;
        if (!Convert(object->get(k), &field)) continue;
        out->field_names.push_back(k);
        out->field_values.push_back(std::move(field));
      }
      return true;
    }
  }
  return false;
}

void Flatten(const hocon::shared_object& object, const std::string& prefix, std::map<std::string, HoconValue>* out) {
  for (const std::string& k : object->key_set()) {
    const hocon::shared_value v = object->get(k);
    const std::string path = prefix.empty() ? PathSegment(k) : prefix + "." + PathSegment(k);
    if (v->value_type() == hocon::config_value::type::OBJECT) {
      auto child = std::dynamic_pointer_cast<const hocon::config_object>(v);
      if (child != nullptr) Flatten(child, path, out);
      continue;
    }
    HoconValue value;
    if (Convert(v, &value)) (*out)[path] = std::move(value);
  }
}

}  // namespace

std::string_view HoconTypeName(HoconValue::Type type) {
  switch (type) {
    case HoconValue::Type::kString: return "string";
    case HoconValue::Type::kNumber: return "number";
    case HoconValue::Type::kBool: return "boolean";
    case HoconValue::Type::kList: return "list";
    case HoconValue::Type::kObject: return "object";
  }
  return "value";
}

Result<std::map<std::string, HoconValue>> ReadHocon(const std::string& text, const std::string& origin) {
  try {
    hocon::config_parse_options options = hocon::config_parse_options::defaults().set_origin_description(
        std::make_shared<const std::string>(origin));
    hocon::shared_config parsed = hocon::config::parse_string(text, options)->resolve();
    std::map<std::string, HoconValue> out;
    Flatten(parsed->root(), "", &out);
    return out;
  } catch (const std::exception& e) {
    // cpp-hocon reports syntax errors, unresolved substitutions and its own
    // failures as exceptions; none of them may escape a Result API.
    // Its messages already start with "<origin>: "; say it once.
    std::string_view what = e.what();
    if (what.substr(0, origin.size() + 2) == origin + ": ") what.remove_prefix(origin.size() + 2);
    return Status::InvalidArgument(origin + ": invalid HOCON: " + std::string(what));
  }
}

}  // namespace lplex::config
