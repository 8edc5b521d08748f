#include "lookupd/http_api.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <limits>
#include <utility>

#include "common/http/prometheus_text.h"
#include "common/http/v1_api.h"
#include "common/log/logger.h"
#include "common/protocol/names.h"
#include "common/util/process_stats.h"

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
  int64_t started_ns;  // when the API was made (the daemon's start), on the database's clock
};

// Spends one slice's SliceLimits: counts entries and, every kClockEvery, looks at the time.
class SliceBudget {
 public:
  explicit SliceBudget(const SliceLimits& limits)
      : max_entries_(limits.max_entries),
        deadline_(limits.max_time == absl::InfiniteDuration()
                      ? Clock::time_point::max()
                      : Clock::now() + absl::ToChronoNanoseconds(limits.max_time)) {}
  static SliceBudget Unlimited() {
    return SliceBudget({std::numeric_limits<int64_t>::max(), absl::InfiniteDuration()});
  }

  // Counts `entries` built; false once this slice should end. `check_clock` for entries that
  // are each big (a chunk of the body copied).
  bool Spend(int64_t entries = 1, bool check_clock = false) {
    spent_ += entries;
    if (spent_ >= max_entries_) return false;
    if (!check_clock && spent_ < next_clock_check_) return true;
    next_clock_check_ = spent_ + kClockEvery;
    return deadline_ == Clock::time_point::max() || Clock::now() < deadline_;
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr int64_t kClockEvery = 64;

  int64_t max_entries_;
  Clock::time_point deadline_;
  int64_t spent_ = 0;
  int64_t next_clock_check_ = kClockEvery;
};

// A response body as a list of pieces. Growing it never copies what is already built (a
// 20 MB std::string that doubles copies 16 MB in one go, a stall of several milliseconds),
// and a finished buffer (a node's topics) is moved in, not copied. Once complete it is joined
// into one string a slice at a time (JoinInto), as HttpResponse wants one.
class BodyChunks {
 public:
  // The piece to append the next small thing to.
  std::string& Tail() {
    if (chunks_.empty() || chunks_.back().size() >= kChunkBytes) chunks_.emplace_back();
    return chunks_.back();
  }
  void Append(std::string_view text) { Tail().append(text); }
  // Moves every piece of `other` to the end.
  void Splice(BodyChunks&& other) {
    for (std::string& chunk : other.chunks_) {
      if (!chunk.empty()) chunks_.push_back(std::move(chunk));
    }
    other.chunks_.clear();
  }
  void Clear() { chunks_.clear(); }
  size_t size() const {
    size_t total = 0;
    for (const std::string& chunk : chunks_) total += chunk.size();
    return total;
  }

  // Moves the pieces, in order, to the end of *joined until the budget is spent (at least one
  // piece per call); true once all are there. Each piece is freed once copied.
  bool JoinInto(std::string* joined, SliceBudget* budget) {
    if (joined_ == 0 && chunks_.size() == 1 && joined->empty()) {
      *joined = std::move(chunks_[0]);
      joined_ = 1;
    }
    if (joined_ == 0 && joined->empty()) joined->reserve(size());
    while (joined_ < chunks_.size()) {
      std::string chunk = std::move(chunks_[joined_++]);
      joined->append(chunk);
      if (!budget->Spend(1, /*check_clock=*/true)) return joined_ == chunks_.size();
    }
    return true;
  }

 private:
  static constexpr size_t kChunkBytes = 256 << 10;

  std::vector<std::string> chunks_;
  size_t joined_ = 0;  // pieces already moved to the joined string
};

// A body built over several turns of the event loop (JSON unless Respond says otherwise). It
// keeps no pointer into the database between slices (only the key to resume from), so any
// change in between is safe.
class SlicedBody {
 public:
  virtual ~SlicedBody() = default;
  // Appends the next part of the body to *out; true once the body is complete.
  virtual bool Build(SliceBudget* budget, BodyChunks* out) = 0;
  // The answer carrying the complete body.
  virtual HttpResponse Respond(std::string body) const { return JsonOk(std::move(body)); }
};

// A route answers at once (respond) or with a body built a slice at a time (start).
struct Handler {
  HttpResponse (*respond)(const Call&) = nullptr;
  std::unique_ptr<SlicedBody> (*start)(const Call&) = nullptr;
};

// Appends `value` as a JSON string, byte for byte what json::serialize writes: names are
// plain ASCII, which needs no escaping; anything else goes through Boost.JSON.
void AppendJsonString(std::string_view value, std::string* out) {
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\\') {
      out->append(json::serialize(json::string_view(value.data(), value.size())));
      return;
    }
  }
  out->push_back('"');
  out->append(value);
  out->push_back('"');
}

json::array Strings(const std::vector<std::string>& values) {
  json::array array;
  for (const std::string& value : values) array.emplace_back(value);
  return array;
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

// {"topics":[...]}: every topic key, walked in order.
class TopicsBody final : public SlicedBody {
 public:
  explicit TopicsBody(const RegistrationDb* db) : db_(db) {}

  bool Build(SliceBudget* budget, BodyChunks* out) override {
    if (!opened_) out->Append(R"({"topics":[)");
    opened_ = true;
    const Registration* last = nullptr;
    const bool complete = db_->VisitRegistrations(
        kTopicCategory, next_, [&](const Registration& r, const RegistrationDb::ProducerMap&) {
          last = &r;
          if (r.subkey.empty()) {
            std::string& tail = out->Tail();
            if (listed_++ > 0) tail.push_back(',');
            AppendJsonString(r.key, &tail);
          }
          return budget->Spend();
        });
    if (!complete) {
      next_ = last->Successor();
      return false;
    }
    out->Append("]}");
    return true;
  }

 private:
  const RegistrationDb* db_;
  bool opened_ = false;
  int64_t listed_ = 0;
  Registration next_{std::string(kTopicCategory), "", ""};
};

std::unique_ptr<SlicedBody> StartTopics(const Call& call) {
  return std::make_unique<TopicsBody>(call.db);
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

// {"producers":[node...]}: every active identified peer (tombstoned ones too) with its topics
// and, parallel to them, whether each is tombstoned. The nodes are chosen when the request
// starts; each node's topics come from its own index (O(its topics)), walked in order and
// resumed after the last topic emitted, and the node is written out once its walk is done.
class NodesBody final : public SlicedBody {
 public:
  NodesBody(const RegistrationDb* db, const LookupdOptions* options)
      : db_(db), tombstone_lifetime_(options->tombstone_lifetime) {
    // Tombstones do not hide nodes (lifetime 0); inactivity does.
    for (const Producer& client :
         db->FilterByActive(db->FindProducers(kClientCategory, "", ""),
                            options->inactive_producer_timeout, absl::ZeroDuration())) {
      clients_.push_back(client.peer->id);
    }
  }

  bool Build(SliceBudget* budget, BodyChunks* out) override {
    if (!opened_) out->Append(R"({"producers":[)");
    opened_ = true;
    for (; next_client_ < clients_.size(); NextNode()) {
      const std::string& id = clients_[next_client_];
      const PeerInfo* peer = db_->FindPeer(id);
      if (peer == nullptr) continue;  // disconnected since the request started
      const Registration* last = nullptr;
      const bool complete = db_->VisitPeerRegistrations(
          id, kTopicCategory, next_topic_,
          [&](const Registration& r, const RegistrationDb::ProducerState& state) {
            last = &r;
            if (r.subkey.empty()) {
              std::string& tombstones = tombstones_.Tail();
              std::string& topics = topics_.Tail();
              if (node_topics_++ > 0) {
                tombstones.push_back(',');
                topics.push_back(',');
              }
              tombstones.append(db_->IsTombstoned(state, tombstone_lifetime_) ? "true" : "false");
              AppendJsonString(r.key, &topics);
            }
            return budget->Spend();
          });
      if (!complete) {
        next_topic_ = last->Successor();
        return false;
      }
      // The peer's fields as PeerObject serializes them, its closing brace left open for the
      // two arrays, which are moved in rather than copied.
      std::string head = json::serialize(PeerObject(*peer));
      head.back() = ',';
      if (listed_++ > 0) out->Append(",");
      out->Append(head);
      out->Append(R"("tombstones":[)");
      out->Splice(std::move(tombstones_));
      out->Append(R"(],"topics":[)");
      out->Splice(std::move(topics_));
      out->Append("]}");
      if (!budget->Spend()) {
        NextNode();
        return false;
      }
    }
    out->Append("]}");
    return true;
  }

 private:
  void NextNode() {
    ++next_client_;
    next_topic_ = Registration{std::string(kTopicCategory), "", ""};
    tombstones_.Clear();
    topics_.Clear();
    node_topics_ = 0;
  }

  const RegistrationDb* db_;
  absl::Duration tombstone_lifetime_;
  std::vector<std::string> clients_;  // peer ids, in id order
  bool opened_ = false;
  int64_t listed_ = 0;
  size_t next_client_ = 0;
  // The node being walked: where its walk resumes and its two arrays so far.
  Registration next_topic_{std::string(kTopicCategory), "", ""};
  BodyChunks tombstones_;
  BodyChunks topics_;
  int64_t node_topics_ = 0;
};

std::unique_ptr<SlicedBody> StartNodes(const Call& call) {
  return std::make_unique<NodesBody>(call.db, call.options);
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
// keys, so both levels are sorted. One key is written within one slice.
class DebugBody final : public SlicedBody {
 public:
  explicit DebugBody(const RegistrationDb* db) : db_(db) {}

  bool Build(SliceBudget* budget, BodyChunks* out) override {
    if (!opened_) out->Append("{");
    opened_ = true;
    const Registration* last = nullptr;
    const bool complete = db_->VisitRegistrations(
        "*", next_, [&](const Registration& r, const RegistrationDb::ProducerMap& producers) {
          last = &r;
          bool first = true;
          for (const auto& [peer_id, state] : producers) {
            const PeerInfo* peer = db_->FindPeer(peer_id);
            if (peer == nullptr) continue;
            std::string& tail = out->Tail();
            if (first) {
              if (listed_++ > 0) tail.push_back(',');
              AppendJsonString(r.ToString(), &tail);
              tail.append(":[");
              first = false;
            } else {
              tail.push_back(',');
            }
            tail.append(json::serialize(DebugObject(*peer, state)));
          }
          if (!first) out->Append("]");  // keys without producers are left out
          return budget->Spend(static_cast<int64_t>(producers.size()) + 1);
        });
    if (!complete) {
      next_ = last->Successor();
      return false;
    }
    out->Append("}");
    return true;
  }

 private:
  static json::object DebugObject(const PeerInfo& peer,
                                  const RegistrationDb::ProducerState& state) {
    json::object p;
    p["broadcast_address"] = peer.info.broadcast_address;
    p["hostname"] = peer.info.hostname;
    p["http_port"] = peer.info.http_port;
    p["id"] = peer.id;
    p["last_update"] = peer.last_update_ns;
    p["tcp_port"] = peer.info.tcp_port;
    p["tombstoned"] = state.tombstoned;
    p["tombstoned_at"] = state.tombstoned ? state.tombstoned_at_ns : kGoZeroTimeUnixNano;
    p["topology_region"] = peer.info.topology_region;
    p["topology_zone"] = peer.info.topology_zone;
    p["version"] = peer.info.version;
    return p;
  }

  const RegistrationDb* db_;
  bool opened_ = false;
  int64_t listed_ = 0;
  Registration next_;  // the smallest key: every category
};

std::unique_ptr<SlicedBody> StartDebug(const Call& call) {
  return std::make_unique<DebugBody>(call.db);
}

// GET /metrics: the registry's size in the Prometheus text format, counted over the whole
// database a slice at a time (as /debug walks it), then the process's figures.
class MetricsBody final : public SlicedBody {
 public:
  explicit MetricsBody(const Call& call)
      : db_(call.db),
        tombstone_lifetime_(call.options->tombstone_lifetime),
        version_(call.version),
        started_ns_(call.started_ns) {}

  bool Build(SliceBudget* budget, BodyChunks* out) override {
    const Registration* last = nullptr;
    const bool complete = db_->VisitRegistrations(
        "*", next_, [&](const Registration& r, const RegistrationDb::ProducerMap& producers) {
          last = &r;
          if (r.category == kTopicCategory) {
            ++topics_;
            topic_producers_ += producers.size();
            for (const auto& [peer_id, state] : producers) {
              if (db_->IsTombstoned(state, tombstone_lifetime_)) ++tombstones_;
            }
          } else if (r.category == kChannelCategory) {
            ++channels_;
          }
          return budget->Spend(static_cast<int64_t>(producers.size()) + 1);
        });
    if (!complete) {
      next_ = last->Successor();
      return false;
    }
    out->Append(Text().text());
    return true;
  }

  HttpResponse Respond(std::string body) const override {
    return http::PrometheusResponse(std::move(body));
  }

 private:
  http::PrometheusText Text() const {
    using http::MetricType;
    http::PrometheusText out;
    out.Family("nsq_info", MetricType::kGauge,
               "Always 1; the version label is the NSQ version this nsqlookupd is compatible "
               "with.");
    out.Sample({{"version", version_}, {"daemon", "nsqlookupd"}}, 1);
    out.Single("nsq_lookupd_producers", MetricType::kGauge,
               "nsqd nodes connected and identified (each counts once).", db_->peer_count());
    out.Single("nsq_lookupd_topics", MetricType::kGauge,
               "Topics registered (by an nsqd or POST /topic/create), with or without producers.",
               topics_);
    out.Single("nsq_lookupd_channels", MetricType::kGauge,
               "Channels registered, with or without producers.", channels_);
    out.Single("nsq_lookupd_topic_producers", MetricType::kGauge,
               "(topic, nsqd) registrations: each nsqd counts once per topic it has.",
               topic_producers_);
    out.Single("nsq_lookupd_tombstones", MetricType::kGauge,
               "Topic producers tombstoned within --tombstone-lifetime (hidden from /lookup).",
               tombstones_);
    const int64_t now_ns = db_->NowNs();
    http::AppendProcessMetrics(&out, util::ReadProcessStats(), started_ns_ / 1'000'000'000,
                               now_ns);
    return out;
  }

  const RegistrationDb* db_;
  const absl::Duration tombstone_lifetime_;
  const std::string version_;
  const int64_t started_ns_;
  Registration next_;  // the smallest key: every category
  uint64_t topics_ = 0;
  uint64_t channels_ = 0;
  uint64_t topic_producers_ = 0;
  uint64_t tombstones_ = 0;
};

std::unique_ptr<SlicedBody> StartMetrics(const Call& call) {
  return std::make_unique<MetricsBody>(call);
}

using Route = http::Route<Handler>;

constexpr Route kRoutes[] = {
    {"/ping", "GET", {.respond = DoPing}},
    {"/info", "GET", {.respond = DoInfo}},
    {"/debug", "GET", {.start = StartDebug}},
    {"/lookup", "GET", {.respond = DoLookup}},
    {"/topics", "GET", {.start = StartTopics}},
    {"/channels", "GET", {.respond = DoChannels}},
    {"/nodes", "GET", {.start = StartNodes}},
    {"/topic/create", "POST", {.respond = DoCreateTopic}},
    {"/topic/delete", "POST", {.respond = DoDeleteTopic}},
    {"/channel/create", "POST", {.respond = DoCreateChannel}},
    {"/channel/delete", "POST", {.respond = DoDeleteChannel}},
    {"/topic/tombstone", "POST", {.respond = DoTombstoneTopicProducer}},
    {"/metrics", "GET", {.start = StartMetrics}},
};

// The route of a request, or the answer refusing it.
const Route* FindRequestRoute(const HttpRequest& request, std::optional<Target>* target,
                              HttpResponse* refusal) {
  *target = http::ParseTarget(request.target);
  if (!*target) {
    *refusal = JsonError(400, "INVALID_REQUEST");
    return nullptr;
  }
  return http::FindRoute<Handler>(kRoutes, (*target)->path, request.method, refusal);
}

}  // namespace

HttpResponse LookupdHttpApi::BodyTooLarge(const HttpRequest&) const {
  return JsonError(413, "BODY_TOO_BIG");
}

// An answer being built a slice per turn of the loop.
struct LookupdHttpApi::Job {
  std::string path;                     // for the log
  std::unique_ptr<SlicedBody> builder;
  bool built = false;  // the builder has completed the body
  BodyChunks chunks;
  std::string body;  // the chunks joined
  std::function<void(HttpResponse)> reply;
  int slices = 0;
  bool abandoned = false;  // Stop() or the API's destruction: no slice runs any more
};

LookupdHttpApi::LookupdHttpApi(RegistrationDb* db, const LookupdOptions* options,
                               std::string version, Defer defer, SliceLimits limits)
    : db_(db),
      options_(options),
      version_(std::move(version)),
      defer_(std::move(defer)),
      limits_(limits),
      started_ns_(db->NowNs()) {}

LookupdHttpApi::~LookupdHttpApi() {
  // A deferred slice still queued on the loop holds its job, not the API: it sees this and
  // returns without touching the API.
  for (const std::shared_ptr<Job>& job : jobs_) job->abandoned = true;
}

HttpResponse LookupdHttpApi::Handle(const HttpRequest& request) {
  std::optional<Target> target;
  HttpResponse refusal;
  const Route* route = FindRequestRoute(request, &target, &refusal);
  if (route == nullptr) return refusal;
  const Call call{db_, options_, version_, *target, started_ns_};
  if (route->handler.respond != nullptr) return route->handler.respond(call);
  BodyChunks chunks;
  std::string body;
  SliceBudget unlimited = SliceBudget::Unlimited();
  std::unique_ptr<SlicedBody> builder = route->handler.start(call);
  builder->Build(&unlimited, &chunks);
  chunks.JoinInto(&body, &unlimited);
  return builder->Respond(std::move(body));
}

void LookupdHttpApi::HandleAsync(const HttpRequest& request,
                                 std::function<void(HttpResponse)> reply) {
  std::optional<Target> target;
  HttpResponse refusal;
  const Route* route = FindRequestRoute(request, &target, &refusal);
  if (route == nullptr) return reply(std::move(refusal));
  const Call call{db_, options_, version_, *target, started_ns_};
  if (route->handler.respond != nullptr) return reply(route->handler.respond(call));
  if (!defer_) return reply(Handle(request));
  if (stopped_) return reply(JsonError(503, "EXITING"));
  auto job = std::make_shared<Job>();
  job->path = target->path;
  job->builder = route->handler.start(call);
  job->reply = std::move(reply);
  RunSlice(job);
}

void LookupdHttpApi::RunSlice(const std::shared_ptr<Job>& job) {
  SliceBudget budget(limits_);
  ++job->slices;
  bool done = false;
  if (!job->built && job->builder->Build(&budget, &job->chunks)) job->built = true;
  // Joined in the slice that completes the body if there is time left, else in later ones.
  if (job->built) done = job->chunks.JoinInto(&job->body, &budget);
  if (!done) {
    if (job->slices == 1) {
      jobs_.push_back(job);
      NSQ_LOG_DEBUG("HTTP: %s is big: building it a slice at a time", job->path);
    }
    defer_([this, job] {
      if (!job->abandoned) RunSlice(job);
    });
    return;
  }
  if (job->slices > 1) {
    std::erase(jobs_, job);
    NSQ_LOG_DEBUG("HTTP: %s answered in %d slices (%d bytes)", job->path, job->slices,
                  job->body.size());
  }
  std::function<void(HttpResponse)> reply = std::move(job->reply);
  reply(job->builder->Respond(std::move(job->body)));
}

void LookupdHttpApi::Stop() {
  stopped_ = true;
  std::vector<std::shared_ptr<Job>> jobs = std::move(jobs_);
  jobs_.clear();
  for (const std::shared_ptr<Job>& job : jobs) {
    job->abandoned = true;
    NSQ_LOG_INFO("HTTP: %s abandoned after %d slices: shutting down", job->path, job->slices);
    std::function<void(HttpResponse)> reply = std::move(job->reply);
    reply(JsonError(503, "EXITING"));
  }
}

}  // namespace nsq::lookupd
