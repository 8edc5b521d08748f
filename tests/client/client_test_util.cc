#include "tests/client/client_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "nsq/producer.h"
#include "tests/testutil/http_client.h"
#include "tests/testutil/wait_for.h"

namespace nsq::client::testing {

std::unique_ptr<testutil::TestNsqd> StartNsqd(std::vector<std::string> flags) {
  auto nsqd = testutil::TestNsqd::Start(std::move(flags));
  REQUIRE_MESSAGE(nsqd.ok(), nsqd.status().ToString());
  return std::move(*nsqd);
}

std::unique_ptr<testutil::TestLookupd> StartLookupd() {
  auto lookupd = testutil::TestLookupd::Start();
  REQUIRE_MESSAGE(lookupd.ok(), lookupd.status().ToString());
  return std::move(*lookupd);
}

std::unique_ptr<testutil::TestNsqd> StartNsqdWithLookupd(const testutil::TestLookupd& lookupd) {
  return StartNsqd({absl::StrCat("--lookupd-tcp-address=", lookupd.tcp_address()),
                    "--broadcast-address=127.0.0.1"});
}

std::string NsqdAddress(const testutil::TestNsqd& nsqd) {
  return absl::StrCat("127.0.0.1:", nsqd.tcp_port());
}

std::string LookupdAddress(const testutil::TestLookupd& lookupd) {
  return absl::StrCat("127.0.0.1:", lookupd.http_port());
}

int PublishAfterRestart(Producer& producer, const std::string& topic) {
  int attempts = 0;
  absl::Status last;
  const bool ok = testutil::WaitFor(
      [&] {
        ++attempts;
        last = producer.Publish(topic, "after");
        CHECK_MESSAGE((last.ok() || absl::IsUnavailable(last)), last.ToString());
        return last.ok();
      },
      std::chrono::seconds(10));
  return ok ? attempts : 0;
}

void PublishAll(const testutil::TestNsqd& nsqd, const std::string& topic, const std::string& tag,
                int count) {
  Producer producer(NsqdAddress(nsqd), Config());
  std::vector<std::string> bodies;
  for (int i = 0; i < count; ++i) bodies.push_back(absl::StrCat(tag, "-", i));
  CLIENT_REQUIRE_OK(producer.MultiPublish(topic, bodies));
}

uint16_t FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  socklen_t length = sizeof(address);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  close(fd);
  return ntohs(address.sin_port);
}

int64_t Stat(const testutil::TestNsqd& nsqd, const std::string& topic, const std::string& channel,
             const std::string& field) {
  auto response = testutil::HttpGet(nsqd.http_port(), "/stats?format=json");
  if (!response.ok() || response->status != 200) return -1;
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(response->body, ec);
  if (ec || !json.is_object()) return -1;
  const boost::json::value* topics = json.as_object().if_contains("topics");
  if (topics == nullptr || !topics->is_array()) return -1;
  for (const boost::json::value& t : topics->as_array()) {
    if (t.at("topic_name").as_string() != topic) continue;
    if (channel.empty()) return t.at(field).to_number<int64_t>();
    for (const boost::json::value& c : t.at("channels").as_array()) {
      if (c.at("channel_name").as_string() == channel) return c.at(field).to_number<int64_t>();
    }
  }
  return -1;
}

namespace {

std::string StringField(const boost::json::object& object, const char* key) {
  const boost::json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

bool BoolField(const boost::json::object& object, const char* key) {
  const boost::json::value* value = object.if_contains(key);
  return value != nullptr && value->is_bool() && value->as_bool();
}

void AddConnStats(const boost::json::value* clients, std::vector<ConnStat>* out) {
  if (clients == nullptr || !clients->is_array()) return;
  for (const boost::json::value& client : clients->as_array()) {
    if (!client.is_object()) continue;
    const boost::json::object& c = client.as_object();
    ConnStat stat;
    stat.client_id = StringField(c, "client_id");
    stat.tls = BoolField(c, "tls");
    stat.tls_version = StringField(c, "tls_version");
    stat.tls_client_cert_subject = StringField(c, "tls_client_cert_subject");
    stat.snappy = BoolField(c, "snappy");
    stat.deflate = BoolField(c, "deflate");
    stat.authed = BoolField(c, "authed");
    stat.auth_identity = StringField(c, "auth_identity");
    out->push_back(std::move(stat));
  }
}

}  // namespace

const testutil::TestCerts& Certs() {
  static const testutil::CertsDir dir;  // its directory goes at exit
  return dir.certs();
}

std::vector<ConnStat> ConnStats(const testutil::TestNsqd& nsqd) {
  std::vector<ConnStat> out;
  auto response = testutil::HttpGet(nsqd.http_port(), "/stats?format=json");
  if (!response.ok() || response->status != 200) return out;
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(response->body, ec);
  if (ec || !json.is_object()) return out;
  const boost::json::value* topics = json.as_object().if_contains("topics");
  if (topics != nullptr && topics->is_array()) {
    for (const boost::json::value& topic : topics->as_array()) {
      const boost::json::value* channels = topic.as_object().if_contains("channels");
      if (channels == nullptr || !channels->is_array()) continue;
      for (const boost::json::value& channel : channels->as_array()) {
        AddConnStats(channel.as_object().if_contains("clients"), &out);
      }
    }
  }
  AddConnStats(json.as_object().if_contains("producers"), &out);
  return out;
}

std::pair<int, std::string> AuthAnswer(const std::string& secret) {
  if (secret != "good") return {403, R"({"message":"no"})"};
  return {200, R"({"ttl":3600,"identity":"good","identity_url":"https://id.example/good",)"
               R"("authorizations":[{"topic":".*","channels":[".*"],)"
               R"("permissions":["subscribe","publish"]}]})"};
}

Config LogRecorder::MakeConfig() {
  Config config;
  config.lookupd_poll_interval = 100ms;
  config.lookupd_poll_jitter = 0.1;
  config.backoff_multiplier = 10ms;
  config.max_backoff_duration = 200ms;
  config.default_requeue_delay = 0ms;
  config.rdy_redistribute_interval = 50ms;
  config.log_level = LogLevel::kDebug;
  config.logger = [this](LogLevel level, const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(line);
    if (level >= LogLevel::kWarning) std::fprintf(stderr, "client: %s\n", line.c_str());
  };
  return config;
}

bool LogRecorder::Contains(const std::string& needle) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& line : lines_) {
    if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::vector<std::string> LogRecorder::Lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

ReceivedBodies::ReceivedBodies(const testutil::TestNsqd& nsqd, const std::string& topic,
                               LogRecorder& log)
    : consumer_(topic, "c", log.MakeConfig()) {
  consumer_.SetHandler([this](Message& m) {
    std::lock_guard<std::mutex> lock(mu_);
    bodies_.push_back(m.body());
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(consumer_.ConnectToNsqd(NsqdAddress(nsqd)));
  REQUIRE(testutil::WaitFor([&] { return consumer_.Stats().connections == 1; }, 10s));
}

std::vector<std::string> ReceivedBodies::WaitFor(size_t count) {
  (void)testutil::WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu_);
        return bodies_.size() >= count;
      },
      10s);
  std::lock_guard<std::mutex> lock(mu_);
  return bodies_;
}

}  // namespace nsq::client::testing
