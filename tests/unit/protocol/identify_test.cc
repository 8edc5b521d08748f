#include "common/protocol/identify.h"

#include <doctest/doctest.h>

#include <string>

namespace nsq::protocol {
namespace {

TEST_CASE("the IDENTIFY response lists its fields in nsqd's order") {
  IdentifyResponse response;
  response.version = "1.3.0";
  CHECK(EncodeIdentifyResponse(response) ==
        R"({"max_rdy_count":2500,"version":"1.3.0","max_msg_timeout":900000,)"
        R"("msg_timeout":60000,"tls_v1":false,"deflate":false,"deflate_level":6,)"
        R"("max_deflate_level":6,"snappy":false,"sample_rate":0,"auth_required":false,)"
        R"("output_buffer_size":16384,"output_buffer_timeout":250,"topology_region":"",)"
        R"("topology_zone":""})");
}

TEST_CASE("the IDENTIFY response round-trips through the client-side parser") {
  IdentifyResponse response;
  response.max_rdy_count = 50;
  response.version = "1.3.0";
  response.msg_timeout = 1000;
  response.tls_v1 = true;
  response.snappy = true;
  response.deflate_level = 3;
  response.sample_rate = 42;
  response.auth_required = true;
  response.output_buffer_size = -1;
  response.output_buffer_timeout = 0;
  response.topology_region = "eu\"west";
  response.topology_zone = "z1";
  absl::StatusOr<IdentifyResponse> parsed = ParseIdentifyResponse(EncodeIdentifyResponse(response));
  REQUIRE(parsed.ok());
  CHECK(parsed->max_rdy_count == 50);
  CHECK(parsed->version == "1.3.0");
  CHECK(parsed->msg_timeout == 1000);
  CHECK(parsed->tls_v1);
  CHECK(parsed->snappy);
  CHECK_FALSE(parsed->deflate);
  CHECK(parsed->deflate_level == 3);
  CHECK(parsed->sample_rate == 42);
  CHECK(parsed->auth_required);
  CHECK(parsed->output_buffer_size == -1);
  CHECK(parsed->output_buffer_timeout == 0);
  CHECK(parsed->topology_region == "eu\"west");
  CHECK(parsed->topology_zone == "z1");
}

TEST_CASE("an nsqjs IDENTIFY body parses and its deprecated keys are ignored") {
  absl::StatusOr<IdentifyRequest> request = ParseIdentifyRequest(
      R"({"client_id":"worker-1","deflate":false,"deflate_level":6,"feature_negotiation":true,)"
      R"("heartbeat_interval":30000,"hostname":"host.example","long_id":"host.example",)"
      R"("short_id":"host","snappy":true,"tls_v1":false,"user_agent":"nsqjs/0.13.0",)"
      R"("msg_timeout":60000,"output_buffer_size":-1,"output_buffer_timeout":-1,)"
      R"("sample_rate":42})");
  REQUIRE(request.ok());
  CHECK(request->client_id == "worker-1");
  CHECK(request->hostname == "host.example");
  CHECK(request->user_agent == "nsqjs/0.13.0");
  CHECK(request->feature_negotiation);
  CHECK(request->heartbeat_interval == 30000);
  CHECK(request->snappy);
  CHECK_FALSE(request->deflate);
  CHECK(request->deflate_level == 6);
  CHECK_FALSE(request->tls_v1);
  CHECK(request->msg_timeout == 60000);
  CHECK(request->output_buffer_size == -1);
  CHECK(request->output_buffer_timeout == -1);
  CHECK(request->sample_rate == 42);
}

TEST_CASE("absent IDENTIFY fields keep their zero values") {
  absl::StatusOr<IdentifyRequest> request = ParseIdentifyRequest("{}");
  REQUIRE(request.ok());
  CHECK(request->client_id.empty());
  CHECK_FALSE(request->feature_negotiation);
  CHECK(request->heartbeat_interval == 0);
  CHECK(request->topology_zone.empty());
}

TEST_CASE("a known IDENTIFY key with the wrong JSON type is an error") {
  CHECK_FALSE(ParseIdentifyRequest(R"({"heartbeat_interval":"1000"})").ok());
  CHECK_FALSE(ParseIdentifyRequest(R"({"heartbeat_interval":true})").ok());
  CHECK_FALSE(ParseIdentifyRequest(R"({"feature_negotiation":"true"})").ok());
  CHECK_FALSE(ParseIdentifyRequest(R"({"feature_negotiation":1})").ok());
  CHECK_FALSE(ParseIdentifyRequest(R"({"client_id":42})").ok());
  CHECK_FALSE(ParseIdentifyRequest(R"({"hostname":["h"]})").ok());
  CHECK_FALSE(ParseIdentifyRequest(R"({"msg_timeout":{}})").ok());
  CHECK_FALSE(ParseIdentifyResponse(R"({"max_rdy_count":"2500"})").ok());
  CHECK_FALSE(ParseIdentifyResponse(R"({"version":1.3})").ok());
}

TEST_CASE("an unknown IDENTIFY key may hold any type") {
  absl::StatusOr<IdentifyRequest> request =
      ParseIdentifyRequest(R"({"whatever":[1,{"a":null}],"short_id":7,"msg_timeout":5})");
  REQUIRE(request.ok());
  CHECK(request->msg_timeout == 5);
}

TEST_CASE("integers are accepted as JSON int64, uint64 or an integral double") {
  absl::StatusOr<IdentifyRequest> request = ParseIdentifyRequest(
      R"({"heartbeat_interval":-1,"output_buffer_size":9223372036854775807,"msg_timeout":1e3,)"
      R"("deflate_level":6.0})");
  REQUIRE(request.ok());
  CHECK(request->heartbeat_interval == -1);
  CHECK(request->output_buffer_size == INT64_MAX);
  CHECK(request->msg_timeout == 1000);
  CHECK(request->deflate_level == 6);
}

TEST_CASE("integers that do not fit their Go type are errors") {
  CHECK_FALSE(ParseIdentifyRequest(R"({"msg_timeout":1.5})").ok());
  CHECK_FALSE(ParseIdentifyRequest(R"({"msg_timeout":9223372036854775808})").ok());
  CHECK_FALSE(ParseIdentifyRequest(R"({"msg_timeout":1e19})").ok());
  // nsqd decodes sample_rate into an int32.
  CHECK(ParseIdentifyRequest(R"({"sample_rate":2147483647})").ok());
  CHECK_FALSE(ParseIdentifyRequest(R"({"sample_rate":2147483648})").ok());
}

TEST_CASE("null leaves a field at its zero value, as Go's decoder does") {
  absl::StatusOr<IdentifyRequest> request =
      ParseIdentifyRequest(R"({"client_id":null,"heartbeat_interval":null,"snappy":null})");
  REQUIRE(request.ok());
  CHECK(request->client_id.empty());
  CHECK(request->heartbeat_interval == 0);
  CHECK_FALSE(request->snappy);
}

TEST_CASE("keys match case-insensitively and the last repeat wins, as in Go") {
  absl::StatusOr<IdentifyRequest> request =
      ParseIdentifyRequest(R"({"Heartbeat_Interval":2000,"CLIENT_ID":"a","client_id":"b",)"
                           R"("msg_timeout":1,"msg_timeout":2})");
  REQUIRE(request.ok());
  CHECK(request->heartbeat_interval == 2000);
  CHECK(request->client_id == "b");
  CHECK(request->msg_timeout == 2);
}

TEST_CASE("an IDENTIFY body that is not a JSON object is an error") {
  CHECK_FALSE(ParseIdentifyRequest("").ok());
  CHECK_FALSE(ParseIdentifyRequest("not json").ok());
  CHECK_FALSE(ParseIdentifyRequest("[]").ok());
  CHECK_FALSE(ParseIdentifyRequest("\"string\"").ok());
  CHECK_FALSE(ParseIdentifyRequest("null").ok());
  CHECK_FALSE(ParseIdentifyRequest(R"({"client_id":"a")").ok());
  CHECK_FALSE(ParseIdentifyRequest(R"({"client_id":"a"} trailing)").ok());
  CHECK_FALSE(ParseIdentifyResponse("OK").ok());
}

TEST_CASE("an IDENTIFY request round-trips through the encoder") {
  const IdentifyRequest request{
      .client_id = "c\n1",
      .hostname = "h",
      .user_agent = "nsq-cpp/0.1",
      .feature_negotiation = true,
      .heartbeat_interval = -1,
      .output_buffer_size = 65536,
      .output_buffer_timeout = 100,
      .sample_rate = 10,
      .msg_timeout = 30000,
      .tls_v1 = true,
      .deflate = true,
      .deflate_level = 9,
      .topology_region = "r",
      .topology_zone = "z",
  };
  const std::string json = EncodeIdentifyRequest(request);
  absl::StatusOr<IdentifyRequest> parsed = ParseIdentifyRequest(json);
  REQUIRE(parsed.ok());
  CHECK(parsed->client_id == "c\n1");
  CHECK(parsed->hostname == "h");
  CHECK(parsed->user_agent == "nsq-cpp/0.1");
  CHECK(parsed->feature_negotiation);
  CHECK(parsed->heartbeat_interval == -1);
  CHECK(parsed->output_buffer_size == 65536);
  CHECK(parsed->output_buffer_timeout == 100);
  CHECK(parsed->sample_rate == 10);
  CHECK(parsed->msg_timeout == 30000);
  CHECK(parsed->tls_v1);
  CHECK(parsed->deflate);
  CHECK_FALSE(parsed->snappy);
  CHECK(parsed->deflate_level == 9);
  CHECK(parsed->topology_region == "r");
  CHECK(parsed->topology_zone == "z");
}

TEST_CASE("invalid UTF-8 inside an IDENTIFY string is accepted and repaired, as Go does") {
  auto request = ParseIdentifyRequest("{\"client_id\":\"a\xff\xfe b\",\"hostname\":\"h\xc3\"}");
  REQUIRE(request.ok());
  CHECK(request->client_id == "a\xEF\xBF\xBD\xEF\xBF\xBD b");
  CHECK(request->hostname == "h\xEF\xBF\xBD");
  auto valid = ParseIdentifyRequest("{\"client_id\":\"caf\xc3\xa9 \xf0\x9f\x99\x82\"}");
  REQUIRE(valid.ok());
  CHECK(valid->client_id == "caf\xc3\xa9 \xf0\x9f\x99\x82");
}

}  // namespace
}  // namespace nsq::protocol
