#include "common/protocol/json_fields.h"

#include <boost/json/parse.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace nsq::protocol {
namespace {

// Debian's abseil has its own string_view type.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Go's json.Unmarshal: each byte of an invalid UTF-8 sequence in a string becomes U+FFFD.
std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t min = 0;
    if (byte < 0x80) {
      out.push_back(text[i++]);
      continue;
    } else if ((byte & 0xE0) == 0xC0) {
      length = 2;
      min = 0x80;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      min = 0x800;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      min = 0x10000;
    }
    bool valid = length > 0 && i + length <= text.size();
    uint32_t code = length > 0 ? byte & (0x7F >> length) : 0;
    for (size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      valid = (next & 0xC0) == 0x80;
      code = (code << 6) | (next & 0x3F);
    }
    valid = valid && code >= min && code <= 0x10FFFF && !(code >= 0xD800 && code <= 0xDFFF);
    if (valid) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<boost::json::value> ParseJson(std::string_view text) {
  boost::system::error_code ec;
  // Strings may hold invalid UTF-8, as Go's decoder accepts; ReadJsonString repairs them.
  boost::json::parse_options options;
  options.allow_invalid_utf8 = true;
  boost::json::value document = boost::json::parse(
      boost::json::string_view(text.data(), text.size()), ec, {}, options);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", ec.message()));
  return document;
}

bool JsonKeyMatches(std::string_view key, std::string_view field_key) {
  return absl::EqualsIgnoreCase(Absl(key), Absl(field_key));
}

absl::Status JsonFieldTypeError(std::string_view key, std::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("JSON field \"", Absl(key), "\" must be ", Absl(expected)));
}

absl::Status ReadJsonString(const boost::json::value& value, std::string_view key,
                            std::string* out) {
  if (value.is_null()) return absl::OkStatus();
  if (!value.is_string()) return JsonFieldTypeError(key, "a string");
  *out = ValidUtf8(std::string_view(value.get_string().data(), value.get_string().size()));
  return absl::OkStatus();
}

absl::Status ReadJsonBool(const boost::json::value& value, std::string_view key, bool* out) {
  if (value.is_null()) return absl::OkStatus();
  if (!value.is_bool()) return JsonFieldTypeError(key, "a boolean");
  *out = value.get_bool();
  return absl::OkStatus();
}

}  // namespace nsq::protocol
