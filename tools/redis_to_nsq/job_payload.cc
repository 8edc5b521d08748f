#include "tools/redis_to_nsq/job_payload.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>

namespace nsq::redis_to_nsq {
namespace {

std::optional<double> EpochSeconds(const boost::json::value* value) {
  if (value == nullptr) return std::nullopt;
  if (value->is_double()) {
    const double d = value->as_double();
    return (std::floor(d) != d || d < 1e11) ? d : d / 1000.0;
  }
  if (value->is_int64()) {
    const double d = static_cast<double>(value->as_int64());
    return d < 1e11 ? d : d / 1000.0;
  }
  if (value->is_uint64()) return static_cast<double>(value->as_uint64()) / 1000.0;
  return std::nullopt;
}

std::string StringField(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return "";
  return std::string(value->as_string().data(), value->as_string().size());
}

}  // namespace

JobInfo InspectJob(std::string_view payload) {
  JobInfo job;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(payload, ec);
  if (ec || !value.is_object()) return job;
  const boost::json::object& object = value.as_object();
  job.json_object = true;
  job.queue = StringField(object, "queue");
  job.jid = StringField(object, "jid");
  job.created_at = EpochSeconds(object.if_contains("created_at"));
  job.enqueued_at = EpochSeconds(object.if_contains("enqueued_at"));
  job.at = EpochSeconds(object.if_contains("at"));
  return job;
}

std::optional<double> QueuedSince(const JobInfo& job) {
  if (job.enqueued_at) return job.enqueued_at;
  if (job.created_at) return job.created_at;
  return job.at;
}

}  // namespace nsq::redis_to_nsq
