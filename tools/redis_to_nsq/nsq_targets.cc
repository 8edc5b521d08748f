#include "tools/redis_to_nsq/nsq_targets.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fcntl.h>
#include <future>
#include <set>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/log/logger.h"
#include "common/net/host_port.h"
#include "nsq/lookupd.h"
#include "tools/redis_to_nsq/run_state.h"

namespace nsq::redis_to_nsq {
namespace {

// How long lookupd's answer about a topic is used before asking again.
constexpr absl::Duration kLookupTtl = absl::Seconds(15);
constexpr int kConnectTimeoutMs = 2000;

// A TCP connect to "host:port" within the timeout: enough to tell an nsqd that is there from
// one that is not, without publishing anything.
absl::Status ProbeTcp(const std::string& address) {
  absl::StatusOr<std::pair<std::string, int>> host_port = net::SplitHostPort(address);
  if (!host_port.ok()) return host_port.status();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string host = host_port->first.empty() ? "127.0.0.1" : host_port->first;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(host_port->second).c_str(), &hints,
                           &found);
      rc != 0) {
    return absl::UnavailableError(gai_strerror(rc));
  }
  absl::Status result = absl::UnavailableError("no address");
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = poll(&p, 1, kConnectTimeoutMs) == 1 ? 0 : -1;
      int error = rc == 0 ? 0 : ETIMEDOUT;
      socklen_t length = sizeof(error);
      if (rc == 0) getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      errno = error;
      rc = error == 0 ? 0 : -1;
    }
    const int error = errno;
    close(fd);
    if (rc == 0) {
      result = absl::OkStatus();
      break;
    }
    result = absl::UnavailableError(std::strerror(error));
  }
  freeaddrinfo(found);
  return result;
}

client::Config ProducerConfig() {
  client::Config config;
  // The migrator reports outages itself, once each; the client's per-attempt lines would
  // only repeat them.
  config.log_level = client::LogLevel::kError;
  config.logger = [](client::LogLevel level, const std::string& line) {
    if (level >= client::LogLevel::kError) NSQ_LOG_ERROR("nsq client: %s", line);
  };
  config.write_timeout = std::chrono::seconds(10);
  return config;
}

}  // namespace

NsqTargets::NsqTargets(Options options) : options_(std::move(options)) {}

NsqTargets::~NsqTargets() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [address, producer] : producers_) producer->Stop();
}

absl::Status NsqTargets::CheckReachable() {
  for (const std::string& address : options_.nsqd_tcp_addresses) {
    if (absl::Status reached = ProbeTcp(address); !reached.ok()) {
      return absl::UnavailableError(
          absl::StrFormat("cannot connect to nsqd at %s: %s", address, reached.message()));
    }
  }
  if (options_.lookupd_http_addresses.empty()) return absl::OkStatus();
  std::vector<std::string> failures;
  size_t known = 0;
  for (const std::string& lookupd : options_.lookupd_http_addresses) {
    absl::StatusOr<std::vector<std::string>> nodes = client::LookupAllProducers(lookupd);
    if (!nodes.ok()) {
      failures.push_back(absl::StrFormat("nsqlookupd at %s: %s", lookupd, nodes.status().message()));
      continue;
    }
    known += nodes->size();
  }
  if (failures.size() == options_.lookupd_http_addresses.size()) {
    return absl::UnavailableError(absl::StrCat("cannot ask ", absl::StrJoin(failures, "; ")));
  }
  for (const std::string& failure : failures) NSQ_LOG_WARN("cannot ask %s", failure);
  if (known == 0) {
    return absl::UnavailableError(absl::StrFormat(
        "nsqlookupd at %s knows no nsqd", absl::StrJoin(options_.lookupd_http_addresses, ", ")));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> NsqTargets::Candidates(const std::string& topic) {
  std::vector<std::string> addresses;
  if (!options_.nsqd_tcp_addresses.empty()) {
    addresses = options_.nsqd_tcp_addresses;
  } else {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto cached = lookups_.find(topic);
      if (cached != lookups_.end() && absl::Now() - cached->second.fetched < kLookupTtl) {
        addresses = cached->second.addresses;
      }
    }
    if (addresses.empty()) {
      // The nsqd that have the topic already; a new topic may go to any nsqd.
      std::set<std::string> found;
      for (const std::string& lookupd : options_.lookupd_http_addresses) {
        absl::StatusOr<std::vector<std::string>> nodes =
            client::LookupTopicProducers(lookupd, topic);
        if (nodes.ok()) found.insert(nodes->begin(), nodes->end());
      }
      if (found.empty()) {
        for (const std::string& lookupd : options_.lookupd_http_addresses) {
          absl::StatusOr<std::vector<std::string>> nodes = client::LookupAllProducers(lookupd);
          if (nodes.ok()) found.insert(nodes->begin(), nodes->end());
        }
      }
      if (found.empty()) {
        return absl::UnavailableError(absl::StrFormat(
            "nsqlookupd at %s knows no nsqd",
            absl::StrJoin(options_.lookupd_http_addresses, ", ")));
      }
      addresses.assign(found.begin(), found.end());
      std::lock_guard<std::mutex> lock(mu_);
      lookups_[topic] = Lookup{addresses, absl::Now()};
    }
  }
  // Round-robin: each call starts one further along.
  std::rotate(addresses.begin(), addresses.begin() + next_++ % addresses.size(),
              addresses.end());
  return addresses;
}

client::Producer& NsqTargets::ProducerFor(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  std::unique_ptr<client::Producer>& producer = producers_[address];
  if (!producer) producer = std::make_unique<client::Producer>(address, ProducerConfig());
  return *producer;
}

absl::Status NsqTargets::OnSomeNsqd(const std::string& topic,
                                    const std::function<absl::Status(client::Producer&)>& attempt) {
  absl::StatusOr<std::vector<std::string>> candidates = Candidates(topic);
  if (!candidates.ok()) return candidates.status();
  std::vector<std::string> failures;
  for (const std::string& address : *candidates) {
    absl::Status status = attempt(ProducerFor(address));
    if (status.ok() || !IsTransient(status)) return status;
    failures.push_back(absl::StrFormat("nsqd at %s: %s", address, status.message()));
  }
  if (!options_.lookupd_http_addresses.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    lookups_.erase(topic);  // ask lookupd again next time
  }
  return absl::UnavailableError(absl::StrJoin(failures, "; "));
}

absl::Status NsqTargets::MultiPublish(const std::string& topic,
                                      const std::vector<std::string>& bodies) {
  return OnSomeNsqd(topic,
                    [&](client::Producer& producer) { return producer.MultiPublish(topic, bodies); });
}

absl::Status NsqTargets::Publish(const std::string& topic, const std::string& body) {
  return OnSomeNsqd(topic, [&](client::Producer& producer) { return producer.Publish(topic, body); });
}

std::vector<absl::Status> NsqTargets::DeferredPublish(const std::string& topic,
                                                      const std::vector<Deferred>& items) {
  std::vector<absl::Status> results(items.size(), absl::UnavailableError("not sent"));
  std::vector<size_t> pending(items.size());
  for (size_t i = 0; i < items.size(); ++i) pending[i] = i;
  absl::Status outcome = OnSomeNsqd(topic, [&](client::Producer& producer) {
    // Pipelined: every DPUB is sent before the first answer is awaited.
    std::vector<std::promise<absl::Status>> answers(pending.size());
    for (size_t k = 0; k < pending.size(); ++k) {
      const Deferred& item = items[pending[k]];
      producer.DeferredPublishAsync(topic, item.second, item.first,
                                    [&answers, k](absl::Status s) { answers[k].set_value(s); });
    }
    std::vector<size_t> still_pending;
    absl::Status transient;
    for (size_t k = 0; k < pending.size(); ++k) {
      absl::Status status = answers[k].get_future().get();
      results[pending[k]] = status;
      if (IsTransient(status)) {
        still_pending.push_back(pending[k]);
        transient = status;
      }
    }
    pending.swap(still_pending);
    return pending.empty() ? absl::OkStatus() : transient;
  });
  (void)outcome;  // per-item statuses say it all
  return results;
}

}  // namespace nsq::redis_to_nsq
