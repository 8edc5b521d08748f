#include "tests/integration/integration_util.h"

#include <boost/json/parse.hpp>

#include <algorithm>

#include "common/protocol/frame.h"

namespace nsq::testutil {

std::unique_ptr<TestNsqd> StartNsqd(std::vector<std::string> flags) {
  absl::StatusOr<std::unique_ptr<TestNsqd>> nsqd = TestNsqd::Start(std::move(flags));
  NSQ_REQUIRE_OK(nsqd);
  return *std::move(nsqd);
}

std::unique_ptr<RawConn> ConnectV2(const TestNsqd& nsqd) {
  absl::StatusOr<std::unique_ptr<RawConn>> conn = RawConn::Connect(nsqd.tcp_port());
  NSQ_REQUIRE_OK(conn);
  NSQ_REQUIRE_OK((*conn)->SendMagic());
  return *std::move(conn);
}

std::unique_ptr<RawConn> Subscribe(const TestNsqd& nsqd, std::string_view topic,
                                   std::string_view channel, int64_t rdy,
                                   std::string_view identify_json) {
  std::unique_ptr<RawConn> conn = ConnectV2(nsqd);
  if (!identify_json.empty()) {
    NSQ_REQUIRE_OK(conn->Identify(identify_json));
    absl::StatusOr<protocol::Frame> reply = conn->ReadFrame();
    NSQ_REQUIRE_OK(reply);
    REQUIRE_MESSAGE(reply->type == protocol::FrameType::kResponse, "IDENTIFY got ",
                    DescribeFrame(*reply));
  }
  NSQ_REQUIRE_OK(conn->Sub(topic, channel));
  NSQ_REQUIRE_OK(conn->ExpectOk());
  if (rdy >= 0) NSQ_REQUIRE_OK(conn->Rdy(rdy));
  return conn;
}

void Publish(const TestNsqd& nsqd, std::string_view topic, std::string_view body) {
  std::unique_ptr<RawConn> conn = ConnectV2(nsqd);
  NSQ_REQUIRE_OK(conn->Pub(topic, body));
  NSQ_REQUIRE_OK(conn->ExpectOk());
}

void PublishMany(const TestNsqd& nsqd, std::string_view topic,
                 const std::vector<std::string>& bodies) {
  std::unique_ptr<RawConn> conn = ConnectV2(nsqd);
  for (const std::string& body : bodies) NSQ_REQUIRE_OK(conn->Pub(topic, body));
  for (size_t i = 0; i < bodies.size(); ++i) NSQ_REQUIRE_OK(conn->ExpectOk());
}

protocol::Message MustReadMessage(RawConn& conn, std::chrono::milliseconds timeout) {
  absl::StatusOr<protocol::Message> message = conn.ReadMessage(timeout);
  NSQ_REQUIRE_OK(message);
  return *std::move(message);
}

std::string Be32(int64_t value) {
  const uint32_t v = static_cast<uint32_t>(value);
  std::string out(4, '\0');
  out[0] = static_cast<char>(v >> 24);
  out[1] = static_cast<char>(v >> 16);
  out[2] = static_cast<char>(v >> 8);
  out[3] = static_cast<char>(v);
  return out;
}

std::string SizedBody(std::string_view body) {
  return Be32(static_cast<int64_t>(body.size())) + std::string(body);
}

boost::json::value ParseJson(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value value =
      boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
  REQUIRE_MESSAGE(!ec, "not JSON (", ec.message(), "): ", std::string(text));
  return value;
}

boost::json::value GetStats(const TestNsqd& nsqd, std::string_view query) {
  std::string target = "/stats?format=json";
  if (!query.empty()) {
    target += '&';
    target += query;  // appended in two steps: g++ 12 warns (-Wrestrict) on "&" + std::string
  }
  absl::StatusOr<HttpResponse> response = HttpGet(nsqd.http_port(), target);
  NSQ_REQUIRE_OK(response);
  REQUIRE_MESSAGE(response->status == 200, target, " -> ", response->status, " ", response->body);
  return ParseJson(response->body);
}

const boost::json::object* FindTopic(const boost::json::value& stats, std::string_view topic) {
  const boost::json::object* root = stats.if_object();
  if (root == nullptr) return nullptr;
  const boost::json::value* topics = root->if_contains("topics");
  if (topics == nullptr || !topics->is_array()) return nullptr;
  for (const boost::json::value& t : topics->get_array()) {
    const boost::json::object* object = t.if_object();
    if (object == nullptr) continue;
    const boost::json::value* name = object->if_contains("topic_name");
    if (name != nullptr && name->is_string() && name->get_string() == topic) return object;
  }
  return nullptr;
}

const boost::json::object* FindChannel(const boost::json::value& stats, std::string_view topic,
                                       std::string_view channel) {
  const boost::json::object* t = FindTopic(stats, topic);
  if (t == nullptr) return nullptr;
  const boost::json::value* channels = t->if_contains("channels");
  if (channels == nullptr || !channels->is_array()) return nullptr;
  for (const boost::json::value& c : channels->get_array()) {
    const boost::json::object* object = c.if_object();
    if (object == nullptr) continue;
    const boost::json::value* name = object->if_contains("channel_name");
    if (name != nullptr && name->is_string() && name->get_string() == channel) return object;
  }
  return nullptr;
}

namespace {

int64_t IntField(const boost::json::object* object, std::string_view field) {
  if (object == nullptr) return -1;
  const boost::json::value* value = object->if_contains(field);
  if (value == nullptr) return -1;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64()) return static_cast<int64_t>(value->get_uint64());
  return -1;
}

}  // namespace

int64_t ChannelStat(const TestNsqd& nsqd, std::string_view topic, std::string_view channel,
                    std::string_view field) {
  boost::json::value stats = GetStats(nsqd);
  return IntField(FindChannel(stats, topic, channel), field);
}

int64_t ChannelReadyCount(const TestNsqd& nsqd, std::string_view topic, std::string_view channel) {
  boost::json::value stats = GetStats(nsqd);
  const boost::json::object* object = FindChannel(stats, topic, channel);
  if (object == nullptr) return -1;
  const boost::json::value* clients = object->if_contains("clients");
  if (clients == nullptr || !clients->is_array()) return -1;
  int64_t ready = 0;
  for (const boost::json::value& client : clients->get_array()) {
    ready += std::max<int64_t>(IntField(client.if_object(), "ready_count"), 0);
  }
  return ready;
}

int64_t TopicStat(const TestNsqd& nsqd, std::string_view topic, std::string_view field) {
  boost::json::value stats = GetStats(nsqd);
  return IntField(FindTopic(stats, topic), field);
}

int64_t NowUnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace nsq::testutil
