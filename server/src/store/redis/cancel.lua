-- Cancels a job if it is pending at now_us, and publishes its id: one atomic step, so two
-- replicas cancelling at once agree on who did. Answers nil for no such job, else
-- {changed ('1' or '0'), c, d, e, o, x or ""}: the job as it is now.
-- KEYS: job hash, expiries. ARGV: id, now_us, expires_ms (now + job TTL), channel
local f = redis.call('HMGET', KEYS[1], 'c', 'd', 'e', 'o', 'x')
if not f[1] then
  return false
end
local changed = '0'
if not f[5] and tonumber(f[1]) + tonumber(f[2]) > tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'x', ARGV[2])
  f[5] = ARGV[2]
  -- It ended early, so it expires early, as in the memory store.
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('PUBLISH', ARGV[4], ARGV[1])
  changed = '1'
end
return {changed, f[1], f[2], f[3], f[4], f[5] or ''}
