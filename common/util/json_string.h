// JSON string literals encoded the way Go's encoding/json writes them, so values we echo back
// (GET /config/:opt) are byte-for-byte what nsqd returns: <, > and & become \u003c \u003e \u0026,
// U+2028/U+2029 are escaped, and invalid UTF-8 becomes U+FFFD.
//
//   nsq::util::QuoteJsonString("a<b")  // "\"a\\u003cb\""
#pragma once

#include <string>
#include <string_view>

namespace nsq::util {

// `text` as a JSON string literal, quotes included.
std::string QuoteJsonString(std::string_view text);

}  // namespace nsq::util
