#include "nsqd/tcp/client_settings.h"

#include <doctest/doctest.h>

namespace nsq::nsqd {
namespace {

std::string ErrorOf(const std::variant<ClientSettings, protocol::ClientError>& result) {
  if (auto* error = std::get_if<protocol::ClientError>(&result)) return error->FrameData();
  return "";
}

TEST_CASE("IDENTIFY defaults come from the flags") {
  NsqdOptions options;
  ClientSettings settings = ClientSettings::Defaults(options);
  CHECK(settings.heartbeat_interval_ms == 30000);
  CHECK(settings.output_buffer_size == 16384);
  CHECK(settings.output_buffer_timeout_ms == 250);
  CHECK(settings.msg_timeout_ms == 60000);
}

TEST_CASE("IDENTIFY values out of range give nsqd's E_BAD_BODY texts") {
  NsqdOptions options;
  options.max_heartbeat_interval = absl::Seconds(300);
  ClientSettings base = ClientSettings::Defaults(options);
  protocol::IdentifyRequest request;

  request.heartbeat_interval = 300001;
  CHECK(ErrorOf(ApplyIdentify(request, base, options)) ==
        "E_BAD_BODY IDENTIFY heartbeat interval (300001) is invalid");
  request.heartbeat_interval = 300000;
  CHECK(ErrorOf(ApplyIdentify(request, base, options)).empty());
  request.heartbeat_interval = 999;
  CHECK(ErrorOf(ApplyIdentify(request, base, options)) ==
        "E_BAD_BODY IDENTIFY heartbeat interval (999) is invalid");
  request.heartbeat_interval = 0;

  request.output_buffer_timeout = 24;
  CHECK(ErrorOf(ApplyIdentify(request, base, options)) ==
        "E_BAD_BODY IDENTIFY output buffer timeout (24) is invalid");
  request.output_buffer_timeout = 0;

  request.output_buffer_size = 65537;
  CHECK(ErrorOf(ApplyIdentify(request, base, options)) ==
        "E_BAD_BODY IDENTIFY output buffer size (65537) is invalid");
  request.output_buffer_size = 0;

  request.sample_rate = 100;
  CHECK(ErrorOf(ApplyIdentify(request, base, options)) ==
        "E_BAD_BODY IDENTIFY sample rate (100) is invalid");
  request.sample_rate = 0;

  request.msg_timeout = 999;
  CHECK(ErrorOf(ApplyIdentify(request, base, options)) ==
        "E_BAD_BODY IDENTIFY msg timeout (999) is invalid");
}

TEST_CASE("IDENTIFY -1 values disable heartbeats and buffering") {
  NsqdOptions options;
  protocol::IdentifyRequest request;
  request.heartbeat_interval = -1;
  request.output_buffer_size = -1;
  auto result = ApplyIdentify(request, ClientSettings::Defaults(options), options);
  auto& settings = std::get<ClientSettings>(result);
  CHECK(settings.heartbeat_interval_ms == 0);
  CHECK(settings.output_buffer_size == 1);
  CHECK(settings.output_buffer_timeout_ms == 0);
}

TEST_CASE("the IDENTIFY response reports limits and the effective settings") {
  NsqdOptions options;
  options.max_rdy_count = 50;
  protocol::IdentifyRequest request;
  request.msg_timeout = 1500;
  request.output_buffer_timeout = 100;
  auto result = ApplyIdentify(request, ClientSettings::Defaults(options), options);
  auto response = MakeIdentifyResponse(std::get<ClientSettings>(result), options, "1.3.0", {});
  CHECK(response.max_rdy_count == 50);
  CHECK(response.msg_timeout == 1500);
  CHECK(response.max_msg_timeout == 900000);
  CHECK(response.output_buffer_timeout == 100);
  CHECK(response.version == "1.3.0");
  CHECK_FALSE(response.tls_v1);
  CHECK_FALSE(response.snappy);
  CHECK_FALSE(response.deflate);
}

}  // namespace
}  // namespace nsq::nsqd

namespace nsq::nsqd {
namespace {

TEST_CASE("the IDENTIFY deflate level is the request's, else 6, capped at max-deflate-level") {
  NsqdOptions options;
  options.max_deflate_level = 4;
  protocol::IdentifyRequest request;
  auto defaults = std::get<ClientSettings>(ApplyIdentify(request, ClientSettings::Defaults(options), options));
  CHECK(MakeIdentifyResponse(defaults, options, "1.3.0", {}).deflate_level == 4);
  request.deflate_level = 2;
  auto asked = std::get<ClientSettings>(ApplyIdentify(request, ClientSettings::Defaults(options), options));
  CHECK(MakeIdentifyResponse(asked, options, "1.3.0", {}).deflate_level == 2);
  request.deflate_level = 9;
  auto capped = std::get<ClientSettings>(ApplyIdentify(request, ClientSettings::Defaults(options), options));
  CHECK(MakeIdentifyResponse(capped, options, "1.3.0", {}).deflate_level == 4);
}

TEST_CASE("upgrades: TLS only with a certificate, compression only when enabled, never both") {
  NsqdOptions options;
  ClientSettings settings = ClientSettings::Defaults(options);
  protocol::IdentifyRequest request;
  request.tls_v1 = true;
  request.snappy = true;
  auto granted = std::get<StreamUpgrades>(NegotiateUpgrades(request, settings, options, true, {}));
  CHECK(granted.tls);
  CHECK(granted.snappy);
  CHECK_FALSE(granted.deflate);
  auto no_cert = std::get<StreamUpgrades>(NegotiateUpgrades(request, settings, options, false, {}));
  CHECK_FALSE(no_cert.tls);
  CHECK(no_cert.snappy);

  options.snappy = false;
  auto off = std::get<StreamUpgrades>(NegotiateUpgrades(request, settings, options, false, {}));
  CHECK_FALSE(off.any());

  options.snappy = true;
  request.deflate = true;
  auto both = NegotiateUpgrades(request, settings, options, false, {});
  REQUIRE(std::holds_alternative<protocol::ClientError>(both));
  CHECK(std::get<protocol::ClientError>(both).FrameData() ==
        "E_IDENTIFY_FAILED cannot enable both deflate and snappy compression");
  CHECK(std::get<protocol::ClientError>(both).fatal);

  // An IDENTIFY after an upgrade changes nothing.
  StreamUpgrades active;
  active.tls = true;
  request.deflate = false;
  CHECK_FALSE(
      std::get<StreamUpgrades>(NegotiateUpgrades(request, settings, options, true, active)).any());
}

}  // namespace
}  // namespace nsq::nsqd
