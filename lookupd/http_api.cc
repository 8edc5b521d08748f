#include "lookupd/http_api.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <limits>

#include "common/http/v1_api.h"
#include "common/log/logger.h"
#include "common/protocol/names.h"

namespace nsq::lookupd {
namespace {

namespace json = boost::json;
using http::EmptyOk;
using http::HttpRequest;
using http::HttpResponse;
using http::JsonError;
using http::JsonOk;
using http::Target;
using http::TopicArg;
using http::TopicChannelArgs;

// What Go's time.Time{}.UnixNano() returns: /debug's tombstoned_at of a producer that was
// never tombstoned.
constexpr int64_t kGoZeroTimeUnixNano = -6795364578871345152;

// One request on its way through a handler.
struct Call {
  RegistrationDb* db;
  const LookupdOptions* options;
  const std::string& version;
  const Target& target;
};

using Handler = HttpResponse (*)(const Call&);

json::array Strings(const std::vector<std::string>& values) {
  json::array array;
  for (const std::string& value : values) array.emplace_back(value);
  return array;
}

std::vector<std::string> Keys(const std::vector<Registration>& registrations) {
  std::vector<std::string> keys;
  for (const Registration& r : registrations) keys.push_back(r.key);
  return keys;
}

std::vector<std::string> SubKeys(const std::vector<Registration>& registrations) {
  std::vector<std::string> subkeys;
  for (const Registration& r : registrations) subkeys.push_back(r.subkey);
  return subkeys;
}

// The identity fields every producer and node object starts with, in upstream's order.
json::object PeerObject(const PeerInfo& peer) {
  json::object object;
  object["remote_address"] = peer.remote_address;
  object["hostname"] = peer.info.hostname;
  object["broadcast_address"] = peer.info.broadcast_address;
  object["tcp_port"] = peer.info.tcp_port;
  object["http_port"] = peer.info.http_port;
  object["version"] = peer.info.version;
  object["topology_zone"] = peer.info.topology_zone;
  object["topology_region"] = peer.info.topology_region;
  return object;
}

HttpResponse DoPing(const Call&) { return http::PlainText(200, "OK"); }

HttpResponse DoInfo(const Call& call) {
  json::object info;
  info["version"] = call.version;
  return JsonOk(json::serialize(info));
}

HttpResponse DoTopics(const Call& call) {
  json::object body;
  body["topics"] = Strings(Keys(call.db->FindRegistrations(kTopicCategory, "*", "")));
  return JsonOk(json::serialize(body));
}

HttpResponse DoChannels(const Call& call) {
  std::string topic;
  if (auto error = TopicArg(call.target, &topic)) return *error;
  json::object body;
  body["channels"] = Strings(SubKeys(call.db->FindRegistrations(kChannelCategory, topic, "*")));
  return JsonOk(json::serialize(body));
}

HttpResponse DoLookup(const Call& call) {
  std::string topic;
  if (auto error = TopicArg(call.target, &topic)) return *error;
  if (call.db->FindRegistrations(kTopicCategory, topic, "").empty()) {
    return JsonError(404, "TOPIC_NOT_FOUND");
  }
  json::array producers;
  for (const Producer& producer : call.db->FilterByActive(
           call.db->FindProducers(kTopicCategory, topic, ""),
           call.options->inactive_producer_timeout, call.options->tombstone_lifetime)) {
    producers.emplace_back(PeerObject(*producer.peer));
  }
  json::object body;
  body["channels"] = Strings(SubKeys(call.db->FindRegistrations(kChannelCategory, topic, "*")));
  body["producers"] = std::move(producers);
  return JsonOk(json::serialize(body));
}

HttpResponse DoNodes(const Call& call) {
  RegistrationDb& db = *call.db;
  // Tombstoned nodes are listed (lifetime 0), with their tombstones per topic.
  const std::vector<Producer> clients =
      db.FilterByActive(db.FindProducers(kClientCategory, "", ""),
                        call.options->inactive_producer_timeout, absl::ZeroDuration());
  json::array nodes;
  for (const Producer& client : clients) {
    std::vector<std::string> topics;
    for (const Registration& r : db.LookupRegistrations(client.peer->id)) {
      if (r.category == kTopicCategory && r.subkey.empty()) topics.push_back(r.key);
    }
    json::array tombstones;
    for (const std::string& topic : topics) {
      bool tombstoned = false;
      for (const Producer& p : db.FindProducers(kTopicCategory, topic, "")) {
        if (p.peer == client.peer) {
          tombstoned = db.IsTombstoned(p, call.options->tombstone_lifetime);
        }
      }
      tombstones.emplace_back(tombstoned);
    }
    json::object node = PeerObject(*client.peer);
    node["tombstones"] = std::move(tombstones);
    node["topics"] = Strings(topics);
    nodes.emplace_back(std::move(node));
  }
  json::object body;
  body["producers"] = std::move(nodes);
  return JsonOk(json::serialize(body));
}

HttpResponse DoCreateTopic(const Call& call) {
  std::string topic;
  if (auto error = TopicArg(call.target, &topic)) return *error;
  if (!protocol::IsValidTopicName(topic)) return JsonError(400, "INVALID_ARG_TOPIC");
  NSQ_LOG_INFO("DB: adding topic(%s)", topic);
  call.db->AddRegistration({std::string(kTopicCategory), topic, ""});
  return EmptyOk();
}

HttpResponse DoDeleteTopic(const Call& call) {
  std::string topic;
  if (auto error = TopicArg(call.target, &topic)) return *error;
  // Upstream does not validate the name: "*" deletes every topic.
  for (const Registration& r : call.db->FindRegistrations(kChannelCategory, topic, "*")) {
    NSQ_LOG_INFO("DB: removing channel(%s) from topic(%s)", r.subkey, r.key);
    call.db->RemoveRegistration(r);
  }
  for (const Registration& r : call.db->FindRegistrations(kTopicCategory, topic, "")) {
    NSQ_LOG_INFO("DB: removing topic(%s)", r.key);
    call.db->RemoveRegistration(r);
  }
  return EmptyOk();
}

HttpResponse DoTombstoneTopicProducer(const Call& call) {
  std::string topic;
  if (auto error = TopicArg(call.target, &topic)) return *error;
  const std::string* node = call.target.Get("node");
  if (node == nullptr) return JsonError(400, "MISSING_ARG_NODE");
  NSQ_LOG_INFO("DB: setting tombstone for producer@%s of topic(%s)", *node, topic);
  call.db->TombstoneTopicProducer(topic, *node);
  return EmptyOk();
}

HttpResponse DoCreateChannel(const Call& call) {
  std::string topic, channel;
  if (auto error = TopicChannelArgs(call.target, &topic, &channel)) return *error;
  NSQ_LOG_INFO("DB: adding channel(%s) in topic(%s)", channel, topic);
  call.db->AddRegistration({std::string(kChannelCategory), topic, channel});
  NSQ_LOG_INFO("DB: adding topic(%s)", topic);
  call.db->AddRegistration({std::string(kTopicCategory), topic, ""});
  return EmptyOk();
}

HttpResponse DoDeleteChannel(const Call& call) {
  std::string topic, channel;
  if (auto error = TopicChannelArgs(call.target, &topic, &channel)) return *error;
  const std::vector<Registration> found =
      call.db->FindRegistrations(kChannelCategory, topic, channel);
  if (found.empty()) return JsonError(404, "CHANNEL_NOT_FOUND");
  NSQ_LOG_INFO("DB: removing channel(%s) from topic(%s)", channel, topic);
  for (const Registration& r : found) call.db->RemoveRegistration(r);
  return EmptyOk();
}

// Every key that has producers, with each producer's full state; Go marshals maps with sorted
// keys, so both levels are sorted.
HttpResponse DoDebug(const Call& call) {
  json::object body;
  for (const auto& [registration, producers] : call.db->registrations()) {
    json::array list;
    for (const auto& [peer_id, state] : producers) {
      const PeerInfo* peer = call.db->FindPeer(peer_id);
      if (peer == nullptr) continue;
      json::object p;
      p["broadcast_address"] = peer->info.broadcast_address;
      p["hostname"] = peer->info.hostname;
      p["http_port"] = peer->info.http_port;
      p["id"] = peer->id;
      p["last_update"] = peer->last_update_ns;
      p["tcp_port"] = peer->info.tcp_port;
      p["tombstoned"] = state.tombstoned;
      p["tombstoned_at"] = state.tombstoned ? state.tombstoned_at_ns : kGoZeroTimeUnixNano;
      p["topology_region"] = peer->info.topology_region;
      p["topology_zone"] = peer->info.topology_zone;
      p["version"] = peer->info.version;
      list.emplace_back(std::move(p));
    }
    if (!list.empty()) body[registration.ToString()] = std::move(list);
  }
  return JsonOk(json::serialize(body));
}

using Route = http::Route<Handler>;

constexpr Route kRoutes[] = {
    {"/ping", "GET", DoPing},
    {"/info", "GET", DoInfo},
    {"/debug", "GET", DoDebug},
    {"/lookup", "GET", DoLookup},
    {"/topics", "GET", DoTopics},
    {"/channels", "GET", DoChannels},
    {"/nodes", "GET", DoNodes},
    {"/topic/create", "POST", DoCreateTopic},
    {"/topic/delete", "POST", DoDeleteTopic},
    {"/channel/create", "POST", DoCreateChannel},
    {"/channel/delete", "POST", DoDeleteChannel},
    {"/topic/tombstone", "POST", DoTombstoneTopicProducer},
};

}  // namespace

HttpResponse LookupdHttpApi::BodyTooLarge(const HttpRequest&) const {
  return JsonError(413, "BODY_TOO_BIG");
}

HttpResponse LookupdHttpApi::Handle(const HttpRequest& request) {
  const std::optional<Target> target = http::ParseTarget(request.target);
  if (!target) return JsonError(400, "INVALID_REQUEST");
  HttpResponse refusal;
  const Route* route = http::FindRoute<Handler>(kRoutes, target->path, request.method, &refusal);
  if (route == nullptr) return refusal;
  return route->handler(Call{db_, options_, version_, *target});
}

}  // namespace nsq::lookupd
