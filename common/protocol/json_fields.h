// Private to nsq_protocol: reading a JSON object into a struct the way Go's json.Unmarshal
// does, for the IDENTIFY bodies of protocol V2 (identify.cc) and lookup V1 (lookup_v1.cc).
// Keys match struct fields ignoring ASCII case, a null value leaves the field as it was, and
// a value of the wrong type is an error naming the key.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace nsq::protocol {

// Parses `text` as one JSON value; the error says "invalid JSON: ...".
absl::StatusOr<boost::json::value> ParseJson(std::string_view text);

// Whether a document's key names the field `field_key` (Go compares ignoring ASCII case).
bool JsonKeyMatches(std::string_view key, std::string_view field_key);

// `JSON field "<key>" must be <expected>`.
absl::Status JsonFieldTypeError(std::string_view key, std::string_view expected);

absl::Status ReadJsonString(const boost::json::value& value, std::string_view key,
                            std::string* out);
absl::Status ReadJsonBool(const boost::json::value& value, std::string_view key, bool* out);

}  // namespace nsq::protocol
