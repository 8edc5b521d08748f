// What the migrator reads from a job's JSON without ever changing it: the queue (sorted-set
// members carry it, lists imply it), the jid, and the timestamps for ages and delays. The
// payload itself is forwarded byte for byte.
//
//   JobInfo job = InspectJob(R"({"class":"Mail","args":[],"queue":"default","jid":"ab",...})");
//   if (!job.json_object) ...            // forwarded as it is (or quarantined with --strict)
//   job.queue;                            // "default"
//   std::optional<double> t = job.enqueued_at;   // epoch seconds
//
// Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nsq::redis_to_nsq {

struct JobInfo {
  bool json_object = false;  // parses as a JSON object
  std::string queue;         // "queue" when it is a string
  std::string jid;           // "jid" when it is a string
  // Epoch seconds. Sidekiq <= 7 and go-workers write float seconds, Sidekiq 8 integer
  // milliseconds; a number with a fraction or below 1e11 is taken as seconds, as Sidekiq's API
  // does.
  std::optional<double> created_at;
  std::optional<double> enqueued_at;
  std::optional<double> at;  // go-workers keeps "at" in its payloads
};

JobInfo InspectJob(std::string_view payload);

// When the job entered its queue, in epoch seconds: enqueued_at, else created_at, else at.
std::optional<double> QueuedSince(const JobInfo& job);

}  // namespace nsq::redis_to_nsq
