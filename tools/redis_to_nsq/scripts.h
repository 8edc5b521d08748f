// The Lua scripts that make every move atomic inside Redis (../shared/REDIS-QUEUES.md, A3).
// A job is only ever in its source, in the migrator's processing key, or (after nsqd's OK and
// the acknowledgement) gone: a crash at any point leaves it somewhere.
#pragma once

#include <string_view>

namespace nsq::redis_to_nsq::scripts {

// Tops the processing list up from the source list's right end (its oldest job, which
// Sidekiq and go-workers also take first) and returns the whole processing list, newest
// first, leftovers of an earlier run included.
// KEYS: source, processing. ARGV: most jobs, most bytes (stop adding once reached), and
// "LMOVE" or "RPOPLPUSH" (Redis before 6.2).
inline constexpr std::string_view kClaimList = R"lua(
local room = tonumber(ARGV[1]) - redis.call('LLEN', KEYS[2])
local bytes = 0
for i = 1, room do
  local moved
  if ARGV[3] == 'LMOVE' then
    moved = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  else
    moved = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
  end
  if not moved then break end
  bytes = bytes + #moved
  if bytes >= tonumber(ARGV[2]) then break end
end
return redis.call('LRANGE', KEYS[2], 0, -1)
)lua";

// The processing sorted set as member/score pairs if it holds leftovers; else moves up to
// ARGV[2] members (and about ARGV[3] bytes) whose score is at most ARGV[1] into it, scores
// kept, and returns them. ARGV[4], when not empty, lists the queues to take ("\n"-separated):
// members of other queues stay (their "queue" is read with cjson; ARGV[5] is a namespace
// prefix to strip from it first, for go-workers' retry set).
// KEYS: source, processing.
inline constexpr std::string_view kClaimSet = R"lua(
local have = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
if #have > 0 then return have end
local wanted = nil
if ARGV[4] ~= '' then
  wanted = {}
  for queue in string.gmatch(ARGV[4], '[^\n]+') do wanted[queue] = true end
end
local limit = tonumber(ARGV[2])
local byte_limit = tonumber(ARGV[3])
local out, count, bytes, skipped = {}, 0, 0, 0
while true do
  local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT',
                           skipped, 100)
  if #items == 0 then break end
  for i = 1, #items, 2 do
    local member, score = items[i], items[i + 1]
    local take = true
    if wanted then
      local ok, job = pcall(cjson.decode, member)
      local queue = nil
      if ok and type(job) == 'table' and type(job['queue']) == 'string' then
        queue = job['queue']
        if ARGV[5] ~= '' and string.sub(queue, 1, #ARGV[5]) == ARGV[5] then
          queue = string.sub(queue, #ARGV[5] + 1)
        end
      end
      take = queue ~= nil and wanted[queue] == true
    end
    if take then
      redis.call('ZADD', KEYS[2], score, member)
      redis.call('ZREM', KEYS[1], member)
      out[#out + 1] = member
      out[#out + 1] = score
      count = count + 1
      bytes = bytes + #member
      if count >= limit or bytes >= byte_limit then return out end
    else
      skipped = skipped + 1
    end
  end
  if #items < 200 then break end
end
return out
)lua";

// Moves one member of the processing sorted set to the quarantine list.
// KEYS: processing, quarantine. ARGV: member.
inline constexpr std::string_view kQuarantineMember = R"lua(
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[2], ARGV[1])
end
return 1
)lua";

// Moves one member of the processing sorted set back to its source with its score.
// KEYS: processing, source. ARGV: member, score.
inline constexpr std::string_view kPutBackMember = R"lua(
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
end
return 1
)lua";

// Extends the lock while it is still ours. KEYS: lock. ARGV: our value, milliseconds.
inline constexpr std::string_view kRefreshLock = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
)lua";

// Deletes the lock if it is still ours. KEYS: lock. ARGV: our value.
inline constexpr std::string_view kReleaseLock = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

}  // namespace nsq::redis_to_nsq::scripts
