#include "common/protocol/json_fields.h"

#include <boost/json/parse.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace nsq::protocol {
namespace {

// Debian's abseil has its own string_view type.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::StatusOr<boost::json::value> ParseJson(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value document =
      boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
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
  out->assign(value.get_string().data(), value.get_string().size());
  return absl::OkStatus();
}

absl::Status ReadJsonBool(const boost::json::value& value, std::string_view key, bool* out) {
  if (value.is_null()) return absl::OkStatus();
  if (!value.is_bool()) return JsonFieldTypeError(key, "a boolean");
  *out = value.get_bool();
  return absl::OkStatus();
}

}  // namespace nsq::protocol
