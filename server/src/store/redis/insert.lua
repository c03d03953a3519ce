-- Creates a job unless the fleet keeps max_jobs already; with an Idempotency-Key, first
-- answers what the key made if it was used before. One script, so it is one atomic step.
-- KEYS: job hash, expiries (zset: job id by expiry ms), key hash, keys (zset: key by arrival ms)
-- ARGV: id, now_ms, expires_ms, max_jobs, c, d, e, o, keyed ("1" or "0"), request JSON,
--       key_ttl_ms, key hash prefix, the key itself
local now = tonumber(ARGV[2])
local keyed = ARGV[9] == '1'
if keyed then
  local seen = redis.call('HMGET', KEYS[3], 'job', 'request')
  if seen[1] then
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
  -- As many keys as jobs at most, the oldest forgotten first, as in the memory store.
  local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[4])
  if over > 0 then
    local oldest = redis.call('ZRANGE', KEYS[4], 0, over - 1)
    for _, key in ipairs(oldest) do
      redis.call('DEL', ARGV[12] .. key)
    end
    redis.call('ZREM', KEYS[4], unpack(oldest))
  end
end
return {'new'}
