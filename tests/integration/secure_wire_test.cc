// TLS and compression on the real nsqd (NSQ-REFERENCE §1.7, §2.2): the in-place TLS upgrade
// after IDENTIFY (reply in clear, handshake, OK over TLS), --tls-required, client certificate
// policies, --tls-min-version, HTTPS, snappy and deflate (OK inside the compressed stream),
// TLS + compression, and /stats showing what each client runs. Certificates are made at test
// time (TestCerts); the client side is RawConn over OpenSSL, and openssl s_client for HTTPS.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/protocol/stream_codec.h"
#include "tests/integration/integration_util.h"
#include "tests/testutil/test_certs.h"

namespace nsq::testutil {
namespace {

// IDENTIFY with feature negotiation: the JSON reply (which comes in clear).
boost::json::object Negotiate(RawConn& conn, std::string_view fields) {
  NSQ_REQUIRE_OK(conn.Identify(absl::StrFormat(R"({"feature_negotiation":true,%s})", fields)));
  absl::StatusOr<protocol::Frame> frame = conn.ReadFrame();
  NSQ_REQUIRE_OK(frame);
  REQUIRE_MESSAGE(frame->type == protocol::FrameType::kResponse, DescribeFrame(*frame));
  return ParseJson(frame->data).as_object();
}

// TLS options that verify nsqd against `ca_file` and offer at most `max_version` (empty: the
// library's newest), with no client certificate.
RawConn::TlsOptions Verifying(const std::string& ca_file, const std::string& max_version = "") {
  RawConn::TlsOptions tls;
  tls.ca_file = ca_file;
  tls.max_version = max_version;
  return tls;
}

// A connection upgraded to TLS (verifying the server against the test CA).
std::unique_ptr<RawConn> TlsConnection(const TestNsqd& nsqd, const TestCerts& certs,
                                       RawConn::TlsOptions tls = {}) {
  auto conn = ConnectV2(nsqd);
  boost::json::object reply = Negotiate(*conn, R"("tls_v1":true)");
  REQUIRE(reply["tls_v1"] == true);
  if (tls.ca_file.empty()) tls.ca_file = certs.ca_cert;
  NSQ_REQUIRE_OK(conn->StartTls(tls));
  NSQ_REQUIRE_OK(conn->ExpectOk());
  return conn;
}

// Publishes and consumes one message over `conn` (it subscribes), proving the stream works
// both ways.
void RoundTrip(RawConn& conn, std::string_view topic) {
  NSQ_REQUIRE_OK(conn.Pub(topic, "over the upgraded stream"));
  NSQ_REQUIRE_OK(conn.ExpectOk());
  NSQ_REQUIRE_OK(conn.Sub(topic, "c"));
  NSQ_REQUIRE_OK(conn.ExpectOk());
  NSQ_REQUIRE_OK(conn.Rdy(1));
  absl::StatusOr<protocol::Message> message = conn.ReadMessage();
  NSQ_REQUIRE_OK(message);
  CHECK(message->body.view() == "over the upgraded stream");
  NSQ_REQUIRE_OK(conn.Fin(message->id.view()));
}

// The /stats client object of the one consumer of topic/c.
boost::json::object ConsumerStats(const TestNsqd& nsqd, std::string_view topic) {
  const boost::json::value stats = GetStats(nsqd);
  const boost::json::object* channel = FindChannel(stats, topic, "c");
  REQUIRE(channel != nullptr);
  const boost::json::array& clients = channel->at("clients").as_array();
  REQUIRE(clients.size() == 1);
  return clients[0].as_object();
}

TEST_CASE("IDENTIFY tls_v1 upgrades in place: reply in clear, handshake, OK over TLS") {
  CertsDir dir;
  const TestCerts& certs = dir.certs();
  auto nsqd = StartNsqd(certs.NsqdFlags());
  auto conn = TlsConnection(*nsqd, certs);
  CHECK(conn->TlsVersion() == "TLSv1.3");
  RoundTrip(*conn, "secure");
  boost::json::object client = ConsumerStats(*nsqd, "secure");
  CHECK(client["tls"] == true);
  CHECK(client["tls_version"] == "TLS1.3");
  CHECK(client["tls_cipher_suite"] == "TLS_AES_256_GCM_SHA384");
  CHECK(client["snappy"] == false);
}

TEST_CASE("without a certificate nsqd answers tls_v1 false and stays in clear") {
  auto nsqd = StartNsqd();
  auto conn = ConnectV2(*nsqd);
  boost::json::object reply = Negotiate(*conn, R"("tls_v1":true)");
  CHECK(reply["tls_v1"] == false);
  RoundTrip(*conn, "plain");
  CHECK(ConsumerStats(*nsqd, "plain")["tls"] == false);
}

TEST_CASE("--tls-required refuses every command before the upgrade, and plain HTTP") {
  CertsDir dir;
  const TestCerts& certs = dir.certs();
  std::vector<std::string> flags = certs.NsqdFlags();
  flags.push_back("--tls-required");
  flags.push_back("--https-address=127.0.0.1:0");
  auto nsqd = StartNsqd(flags);
  for (std::string_view command : {"PUB", "NOP", "SUB"}) {
    CAPTURE(command);
    auto conn = ConnectV2(*nsqd);
    if (command == "PUB") NSQ_REQUIRE_OK(conn->Pub("t", "x"));
    if (command == "NOP") NSQ_REQUIRE_OK(conn->Nop());
    if (command == "SUB") NSQ_REQUIRE_OK(conn->Sub("t", "c"));
    NSQ_CHECK_OK(conn->ExpectError(
        absl::StrFormat("E_INVALID cannot %s in current state (TLS required)", command)));
    CHECK(conn->IsClosedByPeer());
  }
  // nsqd checks TLS before it looks at the command: an unknown one, a bad one, and one whose
  // body never came all get the TLS answer.
  for (auto [bytes, name] : std::vector<std::pair<std::string, std::string>>{
           {"ASDF\n", "ASDF"}, {"SUB onlytopic\n", "SUB"}, {"RDY\n", "RDY"}}) {
    CAPTURE(name);
    auto conn = ConnectV2(*nsqd);
    NSQ_REQUIRE_OK(conn->Send(bytes));
    NSQ_CHECK_OK(conn->ExpectError(
        absl::StrFormat("E_INVALID cannot %s in current state (TLS required)", name)));
    CHECK(conn->IsClosedByPeer());
  }
  {
    auto cut = ConnectV2(*nsqd);
    NSQ_REQUIRE_OK(cut->Send(std::string("PUB t\n\0\0\0\x05" "ab", 12)));
    cut->ShutdownWrite();
    NSQ_CHECK_OK(cut->ExpectError("E_INVALID cannot PUB in current state (TLS required)"));
  }
  // IDENTIFY keeps its own errors: it is how a client asks for the upgrade.
  {
    auto conn = ConnectV2(*nsqd);
    NSQ_REQUIRE_OK(conn->Send(std::string("IDENTIFY\n\0\0\0\x03{x}", 16)));
    absl::StatusOr<protocol::Frame> frame = conn->ReadFrame();
    NSQ_REQUIRE_OK(frame);
    CHECK_MESSAGE(!absl::StrContains(frame->data, "TLS required"), frame->data);
  }
  // IDENTIFY without tls_v1 is allowed, but the connection still cannot publish.
  auto undecided = ConnectV2(*nsqd);
  CHECK(Negotiate(*undecided, R"("tls_v1":false)")["tls_v1"] == false);
  NSQ_REQUIRE_OK(undecided->Pub("t", "x"));
  NSQ_CHECK_OK(undecided->ExpectError("E_INVALID cannot PUB in current state (TLS required)"));
  // Upgraded, everything works.
  auto conn = TlsConnection(*nsqd, certs);
  RoundTrip(*conn, "required");
  // Plain HTTP answers 403 with the HTTPS port, as nsqd writes it.
  absl::StatusOr<HttpResponse> refused = HttpGet(nsqd->http_port(), "/ping");
  NSQ_REQUIRE_OK(refused);
  CHECK(refused->status == 403);
  CHECK_MESSAGE(absl::StrContains(refused->body, R"({"message": "TLS_REQUIRED", "https_port": )"),
                refused->body);
}

TEST_CASE("--tls-required=tcp-https leaves plain HTTP open") {
  CertsDir dir;
  const TestCerts& certs = dir.certs();
  std::vector<std::string> flags = certs.NsqdFlags();
  flags.push_back("--tls-required=tcp-https");
  auto nsqd = StartNsqd(flags);
  auto plain = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(plain->Pub("t", "x"));
  NSQ_CHECK_OK(plain->ExpectError("E_INVALID cannot PUB in current state (TLS required)"));
  absl::StatusOr<HttpResponse> ping = HttpGet(nsqd->http_port(), "/ping");
  NSQ_REQUIRE_OK(ping);
  CHECK(ping->status == 200);
}

TEST_CASE("--tls-client-auth-policy=require-verify wants a certificate the CA signed") {
  CertsDir dir;
  const TestCerts& certs = dir.certs();
  std::vector<std::string> flags = certs.NsqdFlags();
  flags.push_back("--tls-client-auth-policy=require-verify");
  flags.push_back("--tls-root-ca-file=" + certs.ca_cert);
  flags.push_back("--tls-required=tcp-https");  // the policy alone would close plain HTTP
  auto nsqd = StartNsqd(flags);
  auto handshake = [&](const std::string& cert, const std::string& key) {
    auto conn = ConnectV2(*nsqd);
    Negotiate(*conn, R"("tls_v1":true)");
    RawConn::TlsOptions tls;
    tls.ca_file = certs.ca_cert;
    tls.cert_file = cert;
    tls.key_file = key;
    absl::Status started = conn->StartTls(tls);
    // With TLS 1.3 the server's verdict on the client certificate arrives after the client's
    // handshake is done: the first read tells.
    if (started.ok()) started = conn->ExpectOk();
    return std::make_pair(started, std::move(conn));
  };
  CHECK_FALSE(handshake("", "").first.ok());
  CHECK_FALSE(handshake(certs.rogue_cert, certs.rogue_key).first.ok());
  auto [signed_ok, conn] = handshake(certs.client_cert, certs.client_key);
  NSQ_REQUIRE_OK(signed_ok);
  RoundTrip(*conn, "verified");
  boost::json::object client = ConsumerStats(*nsqd, "verified");
  CHECK(client["tls_client_cert_subject"] == "/CN=nsq-test-client");
  CHECK(client["tls_client_cert_issuer"] == "/CN=nsq-test-ca");
}

TEST_CASE("--tls-client-auth-policy=require wants a certificate, any certificate") {
  CertsDir dir;
  const TestCerts& certs = dir.certs();
  std::vector<std::string> flags = certs.NsqdFlags();
  flags.push_back("--tls-client-auth-policy=require");
  flags.push_back("--tls-required=tcp-https");
  auto nsqd = StartNsqd(flags);
  {
    auto conn = ConnectV2(*nsqd);
    Negotiate(*conn, R"("tls_v1":true)");
    absl::Status started = conn->StartTls(Verifying(certs.ca_cert));
    if (started.ok()) started = conn->ExpectOk();
    CHECK_FALSE(started.ok());
  }
  RawConn::TlsOptions rogue;
  rogue.cert_file = certs.rogue_cert;
  rogue.key_file = certs.rogue_key;
  auto conn = TlsConnection(*nsqd, certs, rogue);
  RoundTrip(*conn, "any_cert");
}

TEST_CASE("--tls-min-version=tls1.3 refuses a TLS 1.2 client; the default accepts it") {
  CertsDir dir;
  const TestCerts& certs = dir.certs();
  std::vector<std::string> flags = certs.NsqdFlags();
  auto lenient = StartNsqd(flags);
  auto old_client = TlsConnection(*lenient, certs, Verifying(certs.ca_cert, "tls1.2"));
  CHECK(old_client->TlsVersion() == "TLSv1.2");
  flags.push_back("--tls-min-version=tls1.3");
  auto strict = StartNsqd(flags);
  auto conn = ConnectV2(*strict);
  Negotiate(*conn, R"("tls_v1":true)");
  CHECK_FALSE(conn->StartTls(Verifying(certs.ca_cert, "tls1.2")).ok());
}

TEST_CASE("--https-address serves the HTTP API over TLS (openssl s_client)") {
  CertsDir dir;
  const TestCerts& certs = dir.certs();
  std::vector<std::string> flags = certs.NsqdFlags();
  flags.push_back("--https-address=127.0.0.1:0");
  auto nsqd = StartNsqd(flags);
  std::optional<std::string> line =
      nsqd->process().WaitForOutput(std::regex("HTTPS: listening on \\S*:([0-9]+)"), 5s);
  REQUIRE(line.has_value());
  const std::string port = line->substr(line->rfind(':') + 1);
  Process::Options options;
  options.argv = {"/bin/bash", "-c",
                  "printf 'GET /ping HTTP/1.0\\r\\n\\r\\n' | openssl s_client -quiet -connect "
                  "127.0.0.1:" + port + " -CAfile " + certs.ca_cert +
                      " -verify_return_error 2>&1"};
  auto client = Process::Start(std::move(options));
  NSQ_REQUIRE_OK(client);
  REQUIRE((*client)->Wait(10s).has_value());
  (*client)->WaitForOutputEnd(2s);
  const std::string output = (*client)->Output();
  CHECK_MESSAGE(absl::StrContains(output, "HTTP/1.0 200 OK"), output);
  CHECK_MESSAGE(absl::StrContains(output, "verify return:1"), output);
}

// Turns on the codec a negotiation granted, on our side of `conn`.
void Compress(RawConn& conn, bool snappy, int level = 6) {
  if (snappy) {
    conn.EnableCompression(protocol::NewSnappyCompressor(), protocol::NewSnappyDecompressor());
  } else {
    conn.EnableCompression(protocol::NewDeflateCompressor(level),
                           protocol::NewDeflateDecompressor());
  }
  NSQ_REQUIRE_OK(conn.ExpectOk());  // nsqd's OK comes inside the compressed stream
}

TEST_CASE("snappy and deflate: OK inside the compressed stream, then everything compressed") {
  for (bool snappy : {true, false}) {
    CAPTURE(snappy);
    auto nsqd = StartNsqd({"--max-deflate-level=4"});
    auto conn = ConnectV2(*nsqd);
    boost::json::object reply =
        Negotiate(*conn, snappy ? R"("snappy":true)" : R"("deflate":true,"deflate_level":9)");
    CHECK(reply["snappy"] == snappy);
    CHECK(reply["deflate"] == !snappy);
    CHECK(reply["deflate_level"] == 4);  // capped at --max-deflate-level
    Compress(*conn, snappy, 4);
    RoundTrip(*conn, "squeezed");
    boost::json::object client = ConsumerStats(*nsqd, "squeezed");
    CHECK(client["snappy"] == snappy);
    CHECK(client["deflate"] == !snappy);
  }
}

TEST_CASE("TLS with snappy or deflate: compression sits above TLS") {
  CertsDir dir;
  const TestCerts& certs = dir.certs();
  auto nsqd = StartNsqd(certs.NsqdFlags());
  for (bool snappy : {true, false}) {
    CAPTURE(snappy);
    auto conn = ConnectV2(*nsqd);
    boost::json::object reply = Negotiate(
        *conn, snappy ? R"("tls_v1":true,"snappy":true)" : R"("tls_v1":true,"deflate":true)");
    REQUIRE(reply["tls_v1"] == true);
    NSQ_REQUIRE_OK(conn->StartTls(Verifying(certs.ca_cert)));
    NSQ_REQUIRE_OK(conn->ExpectOk());
    Compress(*conn, snappy);
    const std::string topic = snappy ? "tls_snappy" : "tls_deflate";
    RoundTrip(*conn, topic);
    boost::json::object client = ConsumerStats(*nsqd, topic);
    CHECK(client["tls"] == true);
    CHECK(client["snappy"] == snappy);
    CHECK(client["deflate"] == !snappy);
  }
}

TEST_CASE("snappy and deflate together are refused; --snappy=false / --deflate=false decline") {
  auto nsqd = StartNsqd();
  auto both = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(both->Identify(R"({"feature_negotiation":true,"snappy":true,"deflate":true})"));
  NSQ_CHECK_OK(
      both->ExpectError("E_IDENTIFY_FAILED cannot enable both deflate and snappy compression"));
  CHECK(both->IsClosedByPeer());

  auto off = StartNsqd({"--snappy=false", "--deflate=false"});
  auto conn = ConnectV2(*off);
  boost::json::object reply = Negotiate(*conn, R"("snappy":true)");
  CHECK(reply["snappy"] == false);
  RoundTrip(*conn, "uncompressed");
}

TEST_CASE("garbage inside a compressed stream closes that connection only") {
  auto nsqd = StartNsqd();
  for (bool snappy : {true, false}) {
    CAPTURE(snappy);
    auto conn = ConnectV2(*nsqd);
    Negotiate(*conn, snappy ? R"("snappy":true)" : R"("deflate":true)");
    Compress(*conn, snappy);
    NSQ_REQUIRE_OK(conn->SendWire(std::string("\x07garbage that is no codec's stream\xff\xfe")));
    CHECK(conn->IsClosedByPeer());
  }
  Publish(*nsqd, "still_fine", "x");
}

}  // namespace
}  // namespace nsq::testutil
