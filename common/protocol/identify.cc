#include "common/protocol/identify.h"

#include <boost/json.hpp>
#include <cmath>
#include <limits>
#include <span>
#include <variant>

#include "common/protocol/json_fields.h"

namespace nsq::protocol {
namespace {

namespace json = boost::json;

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// One JSON key of a document and the struct member it maps to. The tables below drive both
// parsing and encoding, so the two cannot drift apart.
template <typename T>
struct Field {
  std::string_view key;
  std::variant<std::string T::*, bool T::*, int64_t T::*> member;
  // The range of the Go type behind an int field (nsqd decodes sample_rate into an int32).
  int64_t min = kInt64Min;
  int64_t max = kInt64Max;
};

constexpr Field<IdentifyRequest> kRequestFields[] = {
    {"client_id", &IdentifyRequest::client_id},
    {"hostname", &IdentifyRequest::hostname},
    {"user_agent", &IdentifyRequest::user_agent},
    {"feature_negotiation", &IdentifyRequest::feature_negotiation},
    {"heartbeat_interval", &IdentifyRequest::heartbeat_interval},
    {"output_buffer_size", &IdentifyRequest::output_buffer_size},
    {"output_buffer_timeout", &IdentifyRequest::output_buffer_timeout},
    {"sample_rate", &IdentifyRequest::sample_rate, std::numeric_limits<int32_t>::min(),
     std::numeric_limits<int32_t>::max()},
    {"msg_timeout", &IdentifyRequest::msg_timeout},
    {"tls_v1", &IdentifyRequest::tls_v1},
    {"snappy", &IdentifyRequest::snappy},
    {"deflate", &IdentifyRequest::deflate},
    {"deflate_level", &IdentifyRequest::deflate_level},
    {"topology_region", &IdentifyRequest::topology_region},
    {"topology_zone", &IdentifyRequest::topology_zone},
};

// In the order nsqd writes them: clients are not supposed to care, but byte-exact tests do.
constexpr Field<IdentifyResponse> kResponseFields[] = {
    {"max_rdy_count", &IdentifyResponse::max_rdy_count},
    {"version", &IdentifyResponse::version},
    {"max_msg_timeout", &IdentifyResponse::max_msg_timeout},
    {"msg_timeout", &IdentifyResponse::msg_timeout},
    {"tls_v1", &IdentifyResponse::tls_v1},
    {"deflate", &IdentifyResponse::deflate},
    {"deflate_level", &IdentifyResponse::deflate_level},
    {"max_deflate_level", &IdentifyResponse::max_deflate_level},
    {"snappy", &IdentifyResponse::snappy},
    {"sample_rate", &IdentifyResponse::sample_rate},
    {"auth_required", &IdentifyResponse::auth_required},
    {"output_buffer_size", &IdentifyResponse::output_buffer_size},
    {"output_buffer_timeout", &IdentifyResponse::output_buffer_timeout},
    {"topology_region", &IdentifyResponse::topology_region},
    {"topology_zone", &IdentifyResponse::topology_zone},
};

// Integers may arrive as int64, uint64 or a double with an integral value (e.g. 1e3).
absl::Status ReadInt(const json::value& value, std::string_view key, int64_t min, int64_t max,
                     int64_t* out) {
  int64_t result = 0;
  if (value.is_int64()) {
    result = value.get_int64();
  } else if (value.is_uint64()) {
    if (value.get_uint64() > static_cast<uint64_t>(kInt64Max)) {
      return JsonFieldTypeError(key, "an integer in range");
    }
    result = static_cast<int64_t>(value.get_uint64());
  } else if (value.is_double()) {
    const double d = value.get_double();
    // 2^63 is exactly representable; anything at or above it does not fit.
    if (std::trunc(d) != d || d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
      return JsonFieldTypeError(key, "an integer");
    }
    result = static_cast<int64_t>(d);
  } else {
    return JsonFieldTypeError(key, "an integer");
  }
  if (result < min || result > max) return JsonFieldTypeError(key, "an integer in range");
  *out = result;
  return absl::OkStatus();
}

template <typename T>
absl::Status ReadField(const Field<T>& field, const json::value& value, T* out) {
  if (auto* member = std::get_if<std::string T::*>(&field.member)) {
    return ReadJsonString(value, field.key, &(out->*(*member)));
  }
  if (auto* member = std::get_if<bool T::*>(&field.member)) {
    return ReadJsonBool(value, field.key, &(out->*(*member)));
  }
  // Go's json.Unmarshal leaves a field untouched when its value is null.
  if (value.is_null()) return absl::OkStatus();
  return ReadInt(value, field.key, field.min, field.max,
                 &(out->*std::get<int64_t T::*>(field.member)));
}

// Parses an object into T: unknown keys are ignored, known keys must have the right type.
// Keys match case-insensitively and a repeated key overwrites, as with Go's json.Unmarshal.
// Invalid UTF-8 inside a string becomes U+FFFD, as Go substitutes it.
template <typename T>
absl::StatusOr<T> ParseObject(std::string_view text, std::span<const Field<T>> fields) {
  absl::StatusOr<json::value> document = ParseJson(text);
  if (!document.ok()) return document.status();
  if (!document->is_object()) return absl::InvalidArgumentError("JSON body is not an object");

  T result;
  for (const json::key_value_pair& entry : document->get_object()) {
    const std::string_view key(entry.key().data(), entry.key().size());
    for (const Field<T>& field : fields) {
      if (!JsonKeyMatches(key, field.key)) continue;
      absl::Status status = ReadField(field, entry.value(), &result);
      if (!status.ok()) return status;
      break;
    }
  }
  return result;
}

template <typename T>
std::string EncodeObject(const T& in, std::span<const Field<T>> fields) {
  json::object object;
  object.reserve(fields.size());
  for (const Field<T>& field : fields) {
    const json::string_view key(field.key.data(), field.key.size());
    std::visit(
        [&](auto member) {
          const auto& value = in.*member;
          if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::string>) {
            object.emplace(key, json::string_view(value.data(), value.size()));
          } else {
            object.emplace(key, value);
          }
        },
        field.member);
  }
  // json::object keeps insertion order, so the table's order is the output order.
  return json::serialize(object);
}

}  // namespace

absl::StatusOr<IdentifyRequest> ParseIdentifyRequest(std::string_view json) {
  return ParseObject<IdentifyRequest>(json, kRequestFields);
}

std::string EncodeIdentifyRequest(const IdentifyRequest& request) {
  return EncodeObject<IdentifyRequest>(request, kRequestFields);
}

std::string EncodeIdentifyResponse(const IdentifyResponse& response) {
  return EncodeObject<IdentifyResponse>(response, kResponseFields);
}

absl::StatusOr<IdentifyResponse> ParseIdentifyResponse(std::string_view json) {
  return ParseObject<IdentifyResponse>(json, kResponseFields);
}

}  // namespace nsq::protocol
