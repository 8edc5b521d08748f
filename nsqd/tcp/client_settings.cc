#include "nsqd/tcp/client_settings.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace nsq::nsqd {
namespace {

int64_t Ms(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

protocol::ClientError BadBody(std::string text) {
  return protocol::ClientError::Fatal(protocol::kBadBody, absl::StrCat("IDENTIFY ", text));
}

}  // namespace

ClientSettings ClientSettings::Defaults(const NsqdOptions& options) {
  ClientSettings settings;
  settings.heartbeat_interval_ms = Ms(options.client_timeout) / 2;
  settings.output_buffer_size = 16384;
  settings.output_buffer_timeout_ms = Ms(options.output_buffer_timeout);
  settings.sample_rate = 0;
  settings.msg_timeout_ms = Ms(options.msg_timeout);
  settings.deflate_level = std::min<int64_t>(6, options.max_deflate_level);
  return settings;
}

std::variant<ClientSettings, protocol::ClientError> ApplyIdentify(
    const protocol::IdentifyRequest& request, const ClientSettings& current,
    const NsqdOptions& options) {
  ClientSettings settings = current;

  const int64_t heartbeat = request.heartbeat_interval;
  if (heartbeat == -1) {
    settings.heartbeat_interval_ms = 0;
  } else if (heartbeat == 0) {
    settings.heartbeat_interval_ms = Ms(options.client_timeout) / 2;
  } else if (heartbeat >= 1000 && heartbeat <= Ms(options.max_heartbeat_interval)) {
    settings.heartbeat_interval_ms = heartbeat;
  } else {
    return BadBody(absl::StrCat("heartbeat interval (", heartbeat, ") is invalid"));
  }

  const int64_t timeout = request.output_buffer_timeout;
  if (timeout == -1) {
    settings.output_buffer_timeout_ms = 0;
  } else if (timeout == 0) {
    settings.output_buffer_timeout_ms = Ms(options.output_buffer_timeout);
  } else if (timeout >= Ms(options.min_output_buffer_timeout) &&
             timeout <= Ms(options.max_output_buffer_timeout)) {
    settings.output_buffer_timeout_ms = timeout;
  } else {
    return BadBody(absl::StrCat("output buffer timeout (", timeout, ") is invalid"));
  }

  const int64_t size = request.output_buffer_size;
  if (size == -1) {
    settings.output_buffer_size = 1;
    settings.output_buffer_timeout_ms = 0;
  } else if (size == 0) {
    // keep the default / current size
  } else if (size >= 64 && size <= options.max_output_buffer_size) {
    settings.output_buffer_size = size;
  } else {
    return BadBody(absl::StrCat("output buffer size (", size, ") is invalid"));
  }

  if (request.sample_rate < 0 || request.sample_rate > 99) {
    return BadBody(absl::StrCat("sample rate (", request.sample_rate, ") is invalid"));
  }
  settings.sample_rate = request.sample_rate;

  const int64_t msg_timeout = request.msg_timeout;
  if (msg_timeout == 0) {
    settings.msg_timeout_ms = Ms(options.msg_timeout);
  } else if (msg_timeout >= 1000 && msg_timeout <= Ms(options.max_msg_timeout)) {
    settings.msg_timeout_ms = msg_timeout;
  } else {
    return BadBody(absl::StrCat("msg timeout (", msg_timeout, ") is invalid"));
  }
  settings.deflate_level = std::min<int64_t>(
      request.deflate_level > 0 ? request.deflate_level : 6, options.max_deflate_level);
  return settings;
}

std::variant<StreamUpgrades, protocol::ClientError> NegotiateUpgrades(
    const protocol::IdentifyRequest& request, const ClientSettings& settings,
    const NsqdOptions& options, bool tls_available, const StreamUpgrades& active) {
  StreamUpgrades upgrades;
  upgrades.deflate_level = settings.deflate_level;
  if (active.any()) return upgrades;
  upgrades.tls = tls_available && request.tls_v1;
  upgrades.snappy = options.snappy && request.snappy;
  upgrades.deflate = options.deflate && request.deflate;
  if (upgrades.snappy && upgrades.deflate) {
    return protocol::ClientError::Fatal(protocol::kIdentifyFailed,
                                        "cannot enable both deflate and snappy compression");
  }
  return upgrades;
}

protocol::IdentifyResponse MakeIdentifyResponse(const ClientSettings& settings,
                                                const NsqdOptions& options,
                                                const std::string& version,
                                                const StreamUpgrades& stream) {
  protocol::IdentifyResponse response;
  response.max_rdy_count = options.max_rdy_count;
  response.version = version;
  response.max_msg_timeout = Ms(options.max_msg_timeout);
  response.msg_timeout = settings.msg_timeout_ms;
  response.tls_v1 = stream.tls;
  response.deflate = stream.deflate;
  response.deflate_level = settings.deflate_level;
  response.max_deflate_level = options.max_deflate_level;
  response.snappy = stream.snappy;
  response.sample_rate = settings.sample_rate;
  response.auth_required = !options.auth_http_addresses.empty();
  response.output_buffer_size = settings.output_buffer_size;
  response.output_buffer_timeout = settings.output_buffer_timeout_ms;
  response.topology_region = options.topology_region;
  response.topology_zone = options.topology_zone;
  return response;
}

}  // namespace nsq::nsqd
