// Small helpers for absl::Status plumbing. abseil 20220623 has no RETURN_IF_ERROR, so we keep ours.
//
//   absl::Status Open() {
//     NSQ_RETURN_IF_ERROR(Lock());
//     NSQ_ASSIGN_OR_RETURN(auto db, OpenDb());
//   }
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define NSQ_STATUS_CONCAT_INNER(a, b) a##b
#define NSQ_STATUS_CONCAT(a, b) NSQ_STATUS_CONCAT_INNER(a, b)

#define NSQ_RETURN_IF_ERROR(expr)                 \
  do {                                            \
    ::absl::Status nsq_status_ = (expr);          \
    if (!nsq_status_.ok()) return nsq_status_;    \
  } while (0)

#define NSQ_ASSIGN_OR_RETURN(lhs, expr) \
  NSQ_ASSIGN_OR_RETURN_IMPL(NSQ_STATUS_CONCAT(nsq_statusor_, __LINE__), lhs, expr)

#define NSQ_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
