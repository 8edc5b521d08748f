// GET /metrics on the real nsqd: after a known workload the page parses with the strict
// Prometheus reader (tests/testutil/prometheus_parser.h) and carries the broker's, the store's
// and the process's figures.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/integration/integration_util.h"
#include "tests/testutil/prometheus_parser.h"

namespace nsq::testutil {
namespace {

// GET /metrics, parsed; REQUIREs 200 and a page that parses.
PromPage Scrape(const TestNsqd& nsqd) {
  absl::StatusOr<HttpResponse> response = HttpGet(nsqd.http_port(), "/metrics");
  NSQ_REQUIRE_OK(response);
  REQUIRE(response->status == 200);
  CHECK(response->Header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  absl::StatusOr<PromPage> page = ParsePrometheusText(response->body);
  REQUIRE_MESSAGE(page.ok(), page.status().ToString(), "\n", response->body);
  return *page;
}

TEST_CASE("/metrics after publishing 10, finishing 6 and deferring 4 requeues") {
  auto nsqd = StartNsqd();
  std::vector<std::string> bodies;
  for (int i = 0; i < 10; ++i) bodies.push_back("message " + std::to_string(i));
  PublishMany(*nsqd, "orders", bodies);
  auto consumer = Subscribe(*nsqd, "orders", "billing", /*rdy=*/10);
  for (int i = 0; i < 10; ++i) {
    const protocol::Message m = MustReadMessage(*consumer);
    if (i < 6) {
      NSQ_REQUIRE_OK(consumer->Fin(m.id.view()));
    } else {
      NSQ_REQUIRE_OK(consumer->Req(m.id.view(), 60'000));
    }
  }
  const PromLabels orders = {{"topic", "orders"}};
  const PromLabels billing = {{"topic", "orders"}, {"channel", "billing"}};
  // FIN and REQ have no reply: the counters say when nsqd has handled them.
  REQUIRE(WaitFor([&] { return Scrape(*nsqd).Value("nsq_channel_deferred", billing) == 4; }, 5s));
  const PromPage page = Scrape(*nsqd);
  CHECK(page.Value("nsq_topic_messages_total", orders) == 10);
  CHECK(page.Value("nsq_topic_depth", orders) == 0);
  CHECK(page.Value("nsq_channel_messages_total", billing) == 10);
  CHECK(page.Value("nsq_channel_requeues_total", billing) == 4);
  CHECK(page.Value("nsq_channel_timeouts_total", billing) == 0);
  CHECK(page.Value("nsq_channel_in_flight", billing) == 0);
  CHECK(page.Value("nsq_channel_depth", billing) == 0);
  CHECK(page.Value("nsq_channel_clients", billing) == 1);
  CHECK(page.Value("nsq_healthy") == 1);
  CHECK(page.Value("nsq_info", {{"version", "1.3.0"}, {"daemon", "nsqd"}}) == 1);

  // The store's figures: the topology is written (creating the topic, then the channel) off
  // the event loop, each a synced write that may still be under way.
  REQUIRE(WaitFor(
      [&] { return Scrape(*nsqd).Value("nsq_store_batches_committed_total").value_or(0) >= 2; },
      10s));
  const PromPage store_page = Scrape(*nsqd);
  CHECK(store_page.Value("nsq_store_batches_failed_total") == 0);
  CHECK(store_page.Value("nsq_store_wal_syncs_total").value_or(0) >= 2);
  const std::optional<double> groups = store_page.Value("nsq_store_write_groups_total");
  REQUIRE(groups.has_value());
  CHECK(*groups >= 1);
  CHECK(store_page.Value("nsq_store_write_group_duration_seconds_count") == *groups);
  CHECK(store_page.Value("nsq_store_write_group_duration_seconds_bucket", {{"le", "+Inf"}}) ==
        *groups);
  CHECK(store_page.Value("nsq_store_write_group_duration_seconds_sum").value_or(0) > 0);
  CHECK(store_page.Find("nsq_store_sst_bytes") != nullptr);
  CHECK(store_page.Value("nsq_store_compactions_total") == 0);

  if (std::getenv("NSQ_TEST_PRINT_METRICS") != nullptr) {
    std::fprintf(stderr, "%s", HttpGet(nsqd->http_port(), "/metrics")->body.c_str());
  }
  CHECK(page.Value("process_resident_memory_bytes").value_or(0) > 1e6);
  CHECK(page.Value("process_open_fds").value_or(0) > 3);
  CHECK(page.Value("nsq_uptime_seconds").value_or(-1) >= 0);
}

}  // namespace
}  // namespace nsq::testutil
