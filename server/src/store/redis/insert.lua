#!lua
-- Creates a job unless the fleet keeps max_jobs already; with an Idempotency-Key, first
-- answers what the key made if it was used before. One script, so it is one atomic step.
-- The shebang (Redis 7) makes Redis refuse the whole script when memory is full (maxmemory
-- with noeviction): without it, a script whose first write frees memory (the sweep below)
-- may write on past the limit.
-- Run after deadline_us (Unix microseconds, by Redis's clock), it changes nothing and answers
-- {'late', seconds, microseconds}: by then the replica has answered 503, and a create it
-- reported as not done must not happen later (Redis paused, or slow to read its socket).
-- KEYS: job hash, expiries (zset: job id by expiry ms), key hash, keys (zset: key by arrival ms)
-- ARGV: id, now_ms, expires_ms, max_jobs, c, d, e, o, keyed ("1" or "0"), request JSON,
--       key_ttl_ms, key hash prefix, the key itself, deadline_us
local time = redis.call('TIME')
if tonumber(time[1]) * 1000000 + tonumber(time[2]) > tonumber(ARGV[14]) then
  return {'late', time[1], time[2]}
end
local now = tonumber(ARGV[2])
local keyed = ARGV[9] == '1'
if keyed then
  -- pcall: a key's hash damaged by another program (not a hash) is replaced, not an error.
  local seen = redis.pcall('HMGET', KEYS[3], 'job', 'request')
  if seen.err then
    redis.call('DEL', KEYS[3])
  elseif seen[1] and seen[2] then
    return {'replayed', seen[1], seen[2]}
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  local earliest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {'full', earliest[2]}
end
redis.call('HSET', KEYS[1], 'c', ARGV[5], 'd', ARGV[6], 'e', ARGV[7], 'o', ARGV[8])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if keyed then
  redis.call('HSET', KEYS[3], 'job', ARGV[1], 'request', ARGV[10])
  redis.call('PEXPIRE', KEYS[3], ARGV[11])
  redis.call('ZADD', KEYS[4], now, ARGV[13])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[11]))
  -- As many keys as jobs at most, the oldest forgotten first, as in the memory store. By
  -- rank, never unpack(): Lua's stack takes about 8,000 values, and a lowered --max-jobs
  -- leaves more keys than that to forget at once.
  local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[4])
  if over > 0 then
    for _, key in ipairs(redis.call('ZRANGE', KEYS[4], 0, over - 1)) do
      redis.call('DEL', ARGV[12] .. key)
    end
    redis.call('ZREMRANGEBYRANK', KEYS[4], 0, over - 1)
  end
end
return {'new'}
