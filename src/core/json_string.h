// JSON string literals written the way Go's encoding/json writes them, so
// output matches lplex byte for byte wherever text is served.
#pragma once

#include <string>
#include <string_view>

namespace lplex {

// Appends `s` as a JSON string literal (quotes included) the way Go's
// encoding/json writes it, so bytes match the reference: `"` `\` \n \r \t
// \b \f as short escapes, other control bytes as \u00XX, `<` `>` `&` as
// \u003c \u003e \u0026, U+2028/U+2029 escaped, invalid UTF-8 as \ufffd.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace lplex
