#!lua flags=allow-oom
-- Cancels a job if it is pending when Redis runs this, and publishes its id: one atomic
-- step, so two replicas cancelling at once agree on who did. "When Redis runs this" is the
-- later of the replica's now_us and Redis's own clock: a cancel that waited in Redis past the
-- job's end (Redis paused or slow) finds it ended, as every replica has answered it by then.
-- Run after deadline_us (by Redis's clock) it changes nothing and answers
-- {'late', seconds, microseconds}: the replica has answered 503 by then.
-- allow-oom: a cancel adds one field and makes the job expire sooner; a full Redis still
-- takes it.
-- Answers nil for no such job (or one whose hash another program damaged), else
-- {changed ('1' or '0'), c, d, e, o, x or ""}: the job as it is now.
-- KEYS: job hash, expiries. ARGV: id, now_us, deadline_us, ttl_ms (a job's TTL after its
-- end), channel
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
if now > tonumber(ARGV[3]) then
  return {'late', time[1], time[2]}
end
now = math.max(now, tonumber(ARGV[2]))
local f = redis.pcall('HMGET', KEYS[1], 'c', 'd', 'e', 'o', 'x')
if f.err or not (tonumber(f[1]) and tonumber(f[2]) and f[3] and f[4]) then
  return false
end
local changed = '0'
if not f[5] and tonumber(f[1]) + tonumber(f[2]) > now then
  f[5] = string.format('%.0f', now)
  redis.call('HSET', KEYS[1], 'x', f[5])
  -- It ended early, so it expires early, as in the memory store.
  local expires = string.format('%.0f', math.floor(now / 1000) + tonumber(ARGV[4]))
  redis.call('PEXPIREAT', KEYS[1], expires)
  redis.call('ZADD', KEYS[2], expires, ARGV[1])
  redis.call('PUBLISH', ARGV[5], ARGV[1])
  changed = '1'
end
return {changed, f[1], f[2], f[3], f[4], f[5] or ''}
