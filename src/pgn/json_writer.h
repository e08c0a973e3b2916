// Decoded messages as JSON, in lplex's formatting (spec/boat.md §6.4):
// keys in declaration order, integers as integers, scaled values as Go
// prints a float64, labels as strings, "not available" as null.
#pragma once

#include <string>

#include "pgn/decoded_message.h"

namespace lplex::pgn {

struct JsonStyle {
  // `lplex dump --decode`: lplex `lookup=` fields (61184's `register`)
  // become {"id":<raw>,"name":"<label>"} (name left out when unknown);
  // elsewhere (the server's /values/decoded) they are the bare number.
  bool wrap_lookups = false;
};

// Appends the `fields` object of `msg` ("{...}"); "{}" when it has none.
void AppendFieldsJson(const DecodedMessage& msg, std::string* out, JsonStyle style = {});

// Appends `v` exactly as Go's encoding/json writes a float64: the shortest
// text that reads back to `v`, plain for 1e-6 <= |v| < 1e21, otherwise in
// exponent form with at least two exponent digits ("1e-07" becomes "1e-7").
// NaN and infinities (which Go refuses) are written as null.
void AppendGoFloat(double v, std::string* out);

}  // namespace lplex::pgn
