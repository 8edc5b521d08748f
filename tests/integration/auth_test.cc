// AUTH on the real nsqd against an auth server the test runs (NSQ-REFERENCE §2.3, §10): what
// nsqd asks (GET and POST), the AUTH reply, the gate on SUB/PUB, permissions, the TTL that makes
// nsqd ask again, servers that fail, an HTTPS auth server, and /stats showing the identity.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/protocol/command.h"
#include "tests/integration/integration_util.h"
#include "tests/testutil/fake_auth_server.h"
#include "tests/testutil/test_certs.h"
#include "tests/testutil/wait_for.h"

namespace nsq::testutil {
namespace {

// The auth server of these tests: "good" may do everything on topics starting with "ok",
// "pubonly" may only publish, "short" is good for one second, anything else is refused.
std::pair<int, std::string> Answer(const std::string& secret) {
  if (secret == "good" || secret == "short") {
    return {200, absl::StrFormat(
                     R"({"ttl":%d,"identity":"%s","identity_url":"https://id.example/%s",)"
                     R"("authorizations":[{"topic":"^ok","channels":[".*"],)"
                     R"("permissions":["subscribe","publish"]}]})",
                     secret == "short" ? 1 : 3600, secret, secret)};
  }
  if (secret == "pubonly") {
    return {200, R"({"ttl":3600,"identity":"pubonly","authorizations":[{"topic":".*",)"
                 R"("channels":[".*"],"permissions":["publish"]}]})"};
  }
  if (secret == "nothing") return {200, R"({"ttl":3600,"authorizations":[]})"};
  return {403, R"({"message":"no"})"};
}

std::unique_ptr<RawConn> Authed(const TestNsqd& nsqd, std::string_view secret) {
  auto conn = ConnectV2(nsqd);
  NSQ_REQUIRE_OK(conn->Auth(secret));
  return conn;
}

TEST_CASE("AUTH against an auth server: the reply, what nsqd asks, publish and consume") {
  FakeAuthServer server(Answer);
  auto nsqd = StartNsqd({"--auth-http-address=" + server.address()});
  auto conn = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(conn->Identify(R"({"feature_negotiation":true})"));
  absl::StatusOr<protocol::Frame> identify = conn->ReadFrame();
  NSQ_REQUIRE_OK(identify);
  CHECK(ParseJson(identify->data).at("auth_required") == true);
  NSQ_REQUIRE_OK(conn->Auth("good"));
  NSQ_CHECK_OK(conn->ExpectResponse(
      R"({"identity":"good","identity_url":"https://id.example/good","permission_count":1})"));
  NSQ_REQUIRE_OK(conn->Pub("ok_topic", "x"));
  NSQ_CHECK_OK(conn->ExpectOk());
  NSQ_REQUIRE_OK(conn->Sub("ok_topic", "c"));
  NSQ_CHECK_OK(conn->ExpectOk());
  NSQ_REQUIRE_OK(conn->Rdy(1));
  CHECK(MustReadMessage(*conn).body.view() == "x");

  std::vector<FakeAuthServer::Request> requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "GET");
  CHECK(requests[0].target ==
        "/auth?common_name=&remote_ip=127.0.0.1&secret=good&tls=false");

  const boost::json::value stats = GetStats(*nsqd);
  const boost::json::object* channel = FindChannel(stats, "ok_topic", "c");
  REQUIRE(channel != nullptr);
  const boost::json::object& client = channel->at("clients").as_array()[0].as_object();
  CHECK(client.at("authed") == true);
  CHECK(client.at("auth_identity") == "good");
  CHECK(client.at("auth_identity_url") == "https://id.example/good");
}

TEST_CASE("the gate: no AUTH is E_AUTH_FIRST, a bad secret E_AUTH_FAILED, a denied topic "
          "E_UNAUTHORIZED") {
  FakeAuthServer server(Answer);
  auto nsqd = StartNsqd({"--auth-http-address=" + server.address()});
  {
    auto conn = ConnectV2(*nsqd);
    NSQ_REQUIRE_OK(conn->Pub("ok_topic", "x"));
    NSQ_CHECK_OK(conn->ExpectError("E_AUTH_FIRST AUTH required before PUB"));
    CHECK(conn->IsClosedByPeer());
  }
  {
    auto conn = Authed(*nsqd, "wrong");
    NSQ_CHECK_OK(conn->ExpectError("E_AUTH_FAILED AUTH failed"));
    CHECK(conn->IsClosedByPeer());
  }
  {
    auto conn = Authed(*nsqd, "nothing");
    NSQ_CHECK_OK(conn->ExpectError("E_UNAUTHORIZED AUTH no authorizations found"));
  }
  {
    auto conn = Authed(*nsqd, "good");
    NSQ_REQUIRE_OK(conn->ReadFrame());
    NSQ_REQUIRE_OK(conn->Pub("secret_topic", "x"));
    NSQ_CHECK_OK(conn->ExpectError(R"(E_UNAUTHORIZED AUTH failed for PUB on "secret_topic" "")"));
  }
  {
    // A publish-only identity cannot subscribe.
    auto conn = Authed(*nsqd, "pubonly");
    NSQ_REQUIRE_OK(conn->ReadFrame());
    NSQ_REQUIRE_OK(conn->Pub("anything", "x"));
    NSQ_CHECK_OK(conn->ExpectOk());
    NSQ_REQUIRE_OK(conn->Sub("anything", "c"));
    NSQ_CHECK_OK(conn->ExpectError(R"(E_UNAUTHORIZED AUTH failed for SUB on "anything" "c")"));
  }
  // HTTP publishing is not gated, as in nsqd.
  absl::StatusOr<HttpResponse> pub = HttpPost(nsqd->http_port(), "/pub?topic=secret_topic", "x");
  NSQ_REQUIRE_OK(pub);
  CHECK(pub->status == 200);
}

TEST_CASE("commands pipelined behind AUTH wait for its answer") {
  FakeAuthServer server(Answer);
  auto nsqd = StartNsqd({"--auth-http-address=" + server.address()});
  auto conn = ConnectV2(*nsqd);
  std::string pipelined;
  protocol::EncodeAuth("good", &pipelined);
  protocol::EncodePub("ok_pipelined", "1", &pipelined);
  protocol::EncodePub("ok_pipelined", "2", &pipelined);
  NSQ_REQUIRE_OK(conn->Send(pipelined));
  absl::StatusOr<protocol::Frame> auth = conn->ReadFrame();
  NSQ_REQUIRE_OK(auth);
  CHECK(absl::StrContains(auth->data, "permission_count"));
  NSQ_CHECK_OK(conn->ExpectOk());
  NSQ_CHECK_OK(conn->ExpectOk());
}

TEST_CASE("when the TTL expires nsqd asks the auth server again before the next PUB") {
  FakeAuthServer server(Answer);
  auto nsqd = StartNsqd({"--auth-http-address=" + server.address()});
  auto conn = Authed(*nsqd, "short");
  NSQ_REQUIRE_OK(conn->ReadFrame());
  NSQ_REQUIRE_OK(conn->Pub("ok_ttl", "x"));
  NSQ_CHECK_OK(conn->ExpectOk());
  CHECK(server.requests().size() == 1);
  // The answer holds for one second; after that, the next PUB makes nsqd ask again.
  REQUIRE(WaitFor(
      [&] {
        if (!conn->Pub("ok_ttl", "x").ok() || !conn->ExpectOk().ok()) return true;
        return server.requests().size() >= 2;
      },
      std::chrono::seconds(5)));
  CHECK(server.requests().size() == 2);
}

TEST_CASE("--auth-http-request-method=post sends the parameters as JSON arrays") {
  FakeAuthServer server(Answer);
  auto nsqd = StartNsqd(
      {"--auth-http-address=" + server.address(), "--auth-http-request-method=post"});
  auto conn = Authed(*nsqd, "good");
  NSQ_REQUIRE_OK(conn->ReadFrame());
  std::vector<FakeAuthServer::Request> requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].target == "/auth");
  CHECK(ParseJson(requests[0].body) ==
        ParseJson(R"({"common_name":[""],"remote_ip":["127.0.0.1"],"secret":["good"],)"
                  R"("tls":["false"]})"));
}

TEST_CASE("an auth server that is down is skipped for one that answers; none is E_AUTH_FAILED") {
  FakeAuthServer server(Answer);
  auto nsqd = StartNsqd({"--auth-http-address=127.0.0.1:1",
                         "--auth-http-address=http://" + server.address() + "/auth"});
  auto conn = Authed(*nsqd, "good");
  absl::StatusOr<protocol::Frame> reply = conn->ReadFrame();
  NSQ_REQUIRE_OK(reply);
  CHECK(absl::StrContains(reply->data, "permission_count"));

  auto alone = StartNsqd({"--auth-http-address=127.0.0.1:1"});
  auto refused = Authed(*alone, "good");
  NSQ_CHECK_OK(refused->ExpectError("E_AUTH_FAILED AUTH failed"));
}

TEST_CASE("an https:// auth server is verified against --tls-root-ca-file") {
  CertsDir dir;
  const TestCerts& certs = dir.certs();
  FakeAuthServer server(Answer, certs.server_cert, certs.server_key);
  auto nsqd = StartNsqd({"--auth-http-address=" + server.https_url(),
                         "--tls-root-ca-file=" + certs.ca_cert});
  auto conn = Authed(*nsqd, "good");
  absl::StatusOr<protocol::Frame> reply = conn->ReadFrame();
  NSQ_REQUIRE_OK(reply);
  CHECK(absl::StrContains(reply->data, R"("identity":"good")"));
  REQUIRE(server.requests().size() == 1);
  CHECK(absl::StartsWith(server.requests()[0].target, "/auth?"));
  NSQ_REQUIRE_OK(conn->Pub("ok_https", "x"));
  NSQ_CHECK_OK(conn->ExpectOk());

  // Without the CA, nsqd does not trust the server: the handshake fails, nothing is asked.
  auto untrusting = StartNsqd({"--auth-http-address=" + server.https_url()});
  auto refused = Authed(*untrusting, "good");
  NSQ_CHECK_OK(refused->ExpectError("E_AUTH_FAILED AUTH failed"));
  CHECK(server.requests().size() == 1);
}

TEST_CASE("without auth servers AUTH is E_AUTH_DISABLED and nothing is gated") {
  auto nsqd = StartNsqd();
  auto conn = Authed(*nsqd, "anything");
  NSQ_CHECK_OK(conn->ExpectError("E_AUTH_DISABLED AUTH disabled"));
  Publish(*nsqd, "free", "x");
}

}  // namespace
}  // namespace nsq::testutil
