// A real Prometheus server (Debian's prometheus, installed by scripts/setup.sh; the
// PROMETHEUS_BINARY environment variable overrides where it is) scrapes the real nsqd and
// nsqlookupd every second; after a known workload the test asks Prometheus's HTTP API for the
// figures: both targets up, depth, message counts, the lookupd's registry. It also loads the
// sample alert rules of docs/operations.md: they must evaluate without error, and every nsq_
// name they use must be one the daemons export.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/integration_util.h"
#include "tests/testutil/process.h"
#include "tests/testutil/temp_dir.h"
#include "tests/testutil/test_lookupd.h"

namespace nsq::testutil {
namespace {

// The prometheus executable: $PROMETHEUS_BINARY, else the one on $PATH; empty if none.
std::string PrometheusBinary() {
  if (const char* path = std::getenv("PROMETHEUS_BINARY")) return path;
  return FindOnPath("prometheus", "");
}

// A query string value, percent-encoded (everything but unreserved characters).
std::string QueryEscape(std::string_view value) {
  std::string out;
  for (const char c : value) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(c);
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof(escaped), "%%%02X", static_cast<unsigned char>(c));
      out += escaped;
    }
  }
  return out;
}

// The YAML of the sample alert rules in docs/operations.md (the ```yaml block of its "Sample
// alert rules" section).
std::string DocumentedAlertRules() {
  std::ifstream file(std::string(NSQ_SOURCE_DIR) + "/docs/operations.md");
  std::stringstream text;
  text << file.rdbuf();
  const std::string doc = text.str();
  const size_t section = doc.find("## Sample alert rules");
  REQUIRE(section != std::string::npos);
  const size_t begin = doc.find("```yaml\n", section);
  REQUIRE(begin != std::string::npos);
  const size_t end = doc.find("```", begin + 8);
  REQUIRE(end != std::string::npos);
  return doc.substr(begin + 8, end - begin - 8);
}

// Prometheus on 127.0.0.1:0 (it logs the port it got) with its data in a temp dir, scraping
// `targets` (job name -> host:port) and evaluating `rules` (a rule file's YAML) every second.
class TestPrometheus {
 public:
  TestPrometheus(const std::vector<std::pair<std::string, std::string>>& targets,
                 const std::string& rules)
      : dir_("prometheus") {
    const std::string binary = PrometheusBinary();
    REQUIRE_MESSAGE(!binary.empty(),
                    "prometheus not found: scripts/setup.sh installs Debian's prometheus");
    std::ofstream(dir_.File("rules.yml")) << rules;
    std::ofstream config(dir_.File("prometheus.yml"));
    config << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
           << "  evaluation_interval: 1s\nrule_files: ['" << dir_.File("rules.yml") << "']\n"
           << "scrape_configs:\n";
    for (const auto& [job, address] : targets) {
      config << "  - job_name: " << job << "\n    static_configs:\n      - targets: ['"
             << address << "']\n";
    }
    config.close();
    Process::Options options;
    options.argv = {binary, "--config.file=" + dir_.File("prometheus.yml"),
                    "--storage.tsdb.path=" + dir_.File("data"),
                    "--web.listen-address=127.0.0.1:0"};
    options.log_path = dir_.File("prometheus.log");
    auto process = Process::Start(std::move(options));
    NSQ_REQUIRE_OK(process);
    process_ = std::move(*process);
    const std::optional<std::string> listening = process_->WaitForOutput(
        std::regex(R"(msg="Listening on" address=127\.0\.0\.1:([0-9]+))"), 30s);
    REQUIRE_MESSAGE(listening.has_value(), process_->Tail(20));
    std::smatch match;
    REQUIRE(std::regex_search(*listening, match, std::regex(R"(127\.0\.0\.1:([0-9]+))")));
    port_ = static_cast<uint16_t>(std::stoi(match[1].str()));
    REQUIRE_MESSAGE(
        process_->WaitForOutput("Server is ready to receive web requests", 30s).has_value(),
        process_->Tail(20));
  }

  // The value of an instant query that must give one sample; nullopt while it gives none.
  std::optional<double> Query(std::string_view expression) {
    absl::StatusOr<HttpResponse> response =
        HttpGet(port_, "/api/v1/query?query=" + QueryEscape(expression));
    if (!response.ok() || response->status != 200) return std::nullopt;
    const boost::json::value document = ParseJson(response->body);
    const boost::json::array& result = document.at("data").at("result").as_array();
    if (result.empty()) return std::nullopt;
    REQUIRE_MESSAGE(result.size() == 1, response->body);
    return std::stod(std::string(result[0].at("value").as_array()[1].as_string()));
  }

  // GET `target` of the HTTP API, parsed; REQUIREs 200.
  boost::json::value Api(std::string_view target) {
    absl::StatusOr<HttpResponse> response = HttpGet(port_, target);
    NSQ_REQUIRE_OK(response);
    REQUIRE_MESSAGE(response->status == 200, response->body);
    return ParseJson(response->body);
  }

  // Polls `expression` until it equals `expected` (Prometheus scrapes every second).
  void ExpectEventually(std::string_view expression, double expected) {
    INFO(std::string(expression));
    std::optional<double> last;
    const bool reached = WaitFor(
        [&] {
          last = Query(expression);
          return last == expected;
        },
        30s);
    CHECK_MESSAGE(reached, "last value: ", last ? std::to_string(*last) : "none");
  }

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
  uint16_t port_ = 0;
};

TEST_CASE("a real Prometheus scrapes nsqd's and nsqlookupd's /metrics") {
  auto lookupd = TestLookupd::Start();
  NSQ_REQUIRE_OK(lookupd);
  auto nsqd = StartNsqd({"--lookupd-tcp-address=" + (*lookupd)->tcp_address()});

  // 10 published to "orders"; channel "billing" gets 4 and finishes them, 6 stay queued.
  std::vector<std::string> bodies;
  for (int i = 0; i < 10; ++i) bodies.push_back("message " + std::to_string(i));
  auto consumer = Subscribe(*nsqd, "orders", "billing", /*rdy=*/4);
  PublishMany(*nsqd, "orders", bodies);
  std::vector<protocol::Message> received;
  for (int i = 0; i < 4; ++i) received.push_back(MustReadMessage(*consumer));
  NSQ_REQUIRE_OK(consumer->Rdy(0));
  for (const protocol::Message& m : received) NSQ_REQUIRE_OK(consumer->Fin(m.id.view()));

  const std::string rules = DocumentedAlertRules();
  TestPrometheus prometheus(
      {{"nsqd", "127.0.0.1:" + std::to_string(nsqd->http_port())},
       {"nsqlookupd", "127.0.0.1:" + std::to_string((*lookupd)->http_port())}},
      rules);
  prometheus.ExpectEventually(R"(up{job="nsqd"})", 1);
  prometheus.ExpectEventually(R"(up{job="nsqlookupd"})", 1);
  prometheus.ExpectEventually(R"(nsq_topic_messages_total{topic="orders"})", 10);
  prometheus.ExpectEventually(R"(nsq_channel_messages_total{topic="orders",channel="billing"})",
                              10);
  prometheus.ExpectEventually(R"(nsq_channel_depth{topic="orders",channel="billing"})", 6);
  prometheus.ExpectEventually(R"(nsq_channel_in_flight{topic="orders",channel="billing"})", 0);
  prometheus.ExpectEventually(R"(nsq_channel_clients{topic="orders",channel="billing"})", 1);
  prometheus.ExpectEventually(R"(nsq_healthy{job="nsqd"})", 1);
  prometheus.ExpectEventually(R"(nsq_lookupd_producers)", 1);
  prometheus.ExpectEventually(R"(nsq_lookupd_topics)", 1);
  prometheus.ExpectEventually(R"(nsq_lookupd_channels)", 1);
  // A histogram Prometheus can compute on: the store's write groups.
  prometheus.ExpectEventually(
      R"(nsq_store_write_group_duration_seconds_count >= bool 1)", 1);

  // The documented alert rules: loaded, evaluated without error...
  REQUIRE(WaitFor(
      [&] {
        const boost::json::value answer = prometheus.Api("/api/v1/rules");
        const boost::json::array& groups = answer.at("data").at("groups").as_array();
        if (groups.empty()) return false;
        for (const boost::json::value& rule : groups[0].at("rules").as_array()) {
          if (rule.at("health") != "ok") return false;
        }
        return groups[0].at("rules").as_array().size() == 9;
      },
      30s));
  // ...and none fires for this healthy nsqd (NsqChannelNoConsumers needs 10 min).
  CHECK(prometheus.Api("/api/v1/alerts").at("data").at("alerts").as_array().empty());
  // Every nsq_ name they use is one the daemons export (a renamed metric fails here).
  std::set<std::string> names;
  const std::regex kName(R"(\bnsq_[a-z_]+)");
  for (auto it = std::sregex_iterator(rules.begin(), rules.end(), kName);
       it != std::sregex_iterator(); ++it) {
    names.insert(it->str());
  }
  CHECK(names.size() >= 9);
  for (const std::string& name : names) {
    INFO(name);
    CHECK(prometheus.Query("count(" + name + ") > bool 0").value_or(0) == 1);
  }

  // The figures move: 3 more published, the depth follows.
  PublishMany(*nsqd, "orders", {"a", "b", "c"});
  prometheus.ExpectEventually(R"(nsq_channel_depth{topic="orders",channel="billing"})", 9);
  prometheus.ExpectEventually(R"(nsq_topic_messages_total{topic="orders"})", 13);
}

}  // namespace
}  // namespace nsq::testutil
