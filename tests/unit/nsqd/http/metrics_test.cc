// GET /metrics over a real Broker: the page parses as Prometheus text (tests/testutil's strict
// reader) and carries each topic's and channel's figures under their names and labels.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "common/http/prometheus_text.h"
#include "nsqd/http/http_api.h"
#include "tests/testutil/prometheus_parser.h"
#include "tests/unit/nsqd/fake_consumer.h"
#include "tests/unit/nsqd/fake_env.h"

namespace nsq::nsqd {
namespace {

using testutil::PromPage;

constexpr int64_t kNow = 1'700'000'100'000'000'000;  // Unix ns
constexpr int64_t kStartTime = 1'700'000'000;        // Unix s, 100 s before kNow

struct MetricsFixture {
  MetricsFixture() {
    env.clock.Set(kNow);
    broker = std::make_unique<Broker>(env.context);
    info.version = "1.3.0";
    info.start_time = kStartTime;
    brokers = std::make_unique<SingleBroker>(broker.get());
    api = std::make_unique<HttpApi>(brokers.get(), &info);
  }

  PromPage Scrape() {
    HttpRequest request;
    request.method = "GET";
    request.target = "/metrics";
    const HttpResponse response = api->Handle(request);
    REQUIRE(response.status == 200);
    REQUIRE(response.headers.size() == 1);
    CHECK(response.headers[0].first == "Content-Type");
    CHECK(response.headers[0].second == "text/plain; version=0.0.4; charset=utf-8");
    absl::StatusOr<PromPage> page = testutil::ParsePrometheusText(response.body);
    REQUIRE_MESSAGE(page.ok(), page.status().ToString(), "\n", response.body);
    return *page;
  }

  void Publish(Topic* topic, std::vector<std::string> bodies) {
    std::vector<protocol::Body> copies;
    for (const std::string& body : bodies) copies.push_back(protocol::Body::Copy(body));
    bool done = false;
    topic->Publish(copies, 0, [&](absl::Status status) {
      CHECK(status.ok());
      done = true;
    });
    REQUIRE(done);
  }

  testing::FakeEnv env;
  std::unique_ptr<Broker> broker;
  std::unique_ptr<SingleBroker> brokers;
  NodeInfo info;
  std::unique_ptr<HttpApi> api;
};

TEST_CASE("/metrics gives each topic's and channel's depth, counters and clients") {
  MetricsFixture f;
  Topic* topic = f.broker->GetOrCreateTopic("orders");
  Channel* channel = topic->GetOrCreateChannel("billing");
  topic->GetOrCreateChannel("audit");
  testing::FakeConsumer consumer(/*rdy=*/2);
  REQUIRE(channel->AddConsumer(&consumer).ok());
  f.Publish(topic, {"a", "bb", "ccc", "dddd"});
  REQUIRE(consumer.received.size() == 2);
  REQUIRE(channel->Finish(&consumer, consumer.received[0].id).ok());
  consumer.Acked();
  channel->ConsumerReady();  // takes the third message
  REQUIRE(channel->Requeue(&consumer, consumer.received[1].id, 0).ok());
  consumer.Acked();
  channel->ConsumerReady();  // takes one more

  const PromPage page = f.Scrape();
  const testutil::PromLabels orders = {{"topic", "orders"}};
  const testutil::PromLabels billing = {{"topic", "orders"}, {"channel", "billing"}};
  const testutil::PromLabels audit = {{"topic", "orders"}, {"channel", "audit"}};
  CHECK(page.Value("nsq_topic_messages_total", orders).value_or(-1) == 4);
  CHECK(page.Value("nsq_topic_message_bytes_total", orders).value_or(-1) == 10);
  CHECK(page.Value("nsq_topic_depth", orders).value_or(-1) == 0);
  CHECK(page.Value("nsq_topics").value_or(-1) == 1);
  CHECK(page.Value("nsq_channel_messages_total", billing).value_or(-1) == 4);
  CHECK(page.Value("nsq_channel_messages_total", audit).value_or(-1) == 4);
  CHECK(page.Value("nsq_channel_depth", audit).value_or(-1) == 4);
  CHECK(page.Value("nsq_channel_clients", billing).value_or(-1) == 1);
  CHECK(page.Value("nsq_channel_clients", audit).value_or(-1) == 0);
  CHECK(page.Value("nsq_channel_requeues_total", billing).value_or(-1) == 1);
  CHECK(page.Value("nsq_channel_timeouts_total", billing).value_or(-1) == 0);
  // The requeued message went straight back out: 2 in flight, 1 queued.
  CHECK(page.Value("nsq_channel_in_flight", billing).value_or(-1) == 2);
  CHECK(page.Value("nsq_channel_depth", billing).value_or(-1) == 1);
  CHECK(page.Value("nsq_channel_deliveries_total",
                   {{"topic", "orders"}, {"channel", "billing"}, {"locality", "global"}}).value_or(-1) == 4);
  CHECK(page.Value("nsq_channel_deliveries_total",
                   {{"topic", "orders"}, {"channel", "billing"}, {"locality", "zone"}}).value_or(-1) == 0);
  CHECK(page.Find("nsq_channel_messages_total")->type == "counter");
  CHECK(page.Find("nsq_channel_depth")->type == "gauge");

  // A vanished consumer's in-flight messages: requeues, and disconnect requeues of their own.
  channel->RemoveConsumer(&consumer);
  const PromPage after = f.Scrape();
  CHECK(after.Value("nsq_channel_requeues_total", billing).value_or(-1) == 3);
  CHECK(after.Value("nsq_channel_disconnect_requeues_total", billing).value_or(-1) == 2);
  CHECK(after.Value("nsq_channel_in_flight", billing).value_or(-1) == 0);
  CHECK(after.Value("nsq_channel_depth", billing).value_or(-1) == 3);
}

TEST_CASE("/metrics: the daemon's own figures, and none of the store's without a store") {
  MetricsFixture f;
  const PromPage page = f.Scrape();
  CHECK(page.Value("nsq_info", {{"version", "1.3.0"}, {"daemon", "nsqd"}}).value_or(-1) == 1);
  CHECK(page.Value("nsq_healthy").value_or(-1) == 1);
  CHECK(page.Value("nsq_uptime_seconds").value_or(-1) == 100);
  CHECK(page.Value("process_start_time_seconds").value_or(-1) == kStartTime);
  CHECK(page.Value("process_resident_memory_bytes") > 0);
  CHECK(page.Value("process_open_fds") > 0);
  CHECK(page.Find("nsq_store_batches_failed_total") == nullptr);
  CHECK(page.Find("nsq_topic_e2e_processing_latency_seconds") == nullptr);  // not enabled
}

TEST_CASE("/metrics: store figures and health come from the daemon's hook") {
  MetricsFixture f;
  f.info.health_error = [] { return std::string("disk full"); };
  f.info.fill_metrics = [](MetricsPage* page) {
    StoreMetrics store;
    store.writer.batches_failed = 3;
    store.writer.writes = 7;
    store.writer.write_seconds_count = 7;
    store.writer.write_seconds_sum = 0.5;
    store.writer.write_seconds_buckets.fill(7);
    store.writer.write_seconds_buckets[0] = 2;
    store.files.sst_bytes = 4096;
    page->store = store;
    page->statsd = StatsdMetrics{.pushes = 2, .packets_sent = 5, .packets_dropped = 1};
  };
  const PromPage page = f.Scrape();
  CHECK(page.Value("nsq_healthy").value_or(-1) == 0);
  CHECK(page.Value("nsq_store_batches_failed_total").value_or(-1) == 3);
  CHECK(page.Value("nsq_store_write_groups_total").value_or(-1) == 7);
  CHECK(page.Value("nsq_store_sst_bytes").value_or(-1) == 4096);
  CHECK(page.Value("nsq_store_write_group_duration_seconds_bucket", {{"le", "0.0001"}}).value_or(-1) == 2);
  CHECK(page.Value("nsq_store_write_group_duration_seconds_bucket", {{"le", "+Inf"}}).value_or(-1) == 7);
  CHECK(page.Value("nsq_store_write_group_duration_seconds_sum").value_or(-1) == 0.5);
  CHECK(page.Value("nsq_statsd_packets_dropped_total").value_or(-1) == 1);
  CHECK(page.Value("nsq_statsd_pushes_total").value_or(-1) == 2);
}

TEST_CASE("/metrics: e2e latency quantiles in seconds, topic and channel") {
  MetricsFixture f;
  f.env.options.e2e_quantiles = {0.99, 0.5};
  Topic* topic = f.broker->GetOrCreateTopic("t");
  Channel* channel = topic->GetOrCreateChannel("c");
  testing::FakeConsumer consumer(/*rdy=*/10);
  REQUIRE(channel->AddConsumer(&consumer).ok());
  f.Publish(topic, {"x"});
  f.env.clock.Set(kNow + 250'000'000);  // FIN 250 ms after the publish
  REQUIRE(channel->Finish(&consumer, consumer.received[0].id).ok());
  const PromPage page = f.Scrape();
  const std::optional<double> p99 = page.Value("nsq_channel_e2e_processing_latency_seconds",
                                               {{"topic", "t"}, {"channel", "c"}, {"quantile", "0.99"}});
  REQUIRE(p99.has_value());
  CHECK(*p99 == doctest::Approx(0.25).epsilon(0.01));
  CHECK(page.Value("nsq_topic_e2e_processing_latency_seconds",
                   {{"topic", "t"}, {"quantile", "0.5"}}).value_or(-1) == doctest::Approx(0.25).epsilon(0.01));
  CHECK(page.Value("nsq_channel_e2e_processing_latency_samples",
                   {{"topic", "t"}, {"channel", "c"}}).value_or(-1) == 1);
}

TEST_CASE("/metrics: topic and channel names reach the labels intact") {
  MetricsFixture f;
  // Names nsqd accepts: letters, digits, '.', '_', '-' and the #ephemeral suffix.
  f.broker->GetOrCreateTopic("a.b-c_d")->GetOrCreateChannel("e#ephemeral");
  const PromPage page = f.Scrape();
  CHECK(page.Value("nsq_channel_depth", {{"topic", "a.b-c_d"}, {"channel", "e#ephemeral"}}).value_or(-1) == 0);
}

}  // namespace
}  // namespace nsq::nsqd
