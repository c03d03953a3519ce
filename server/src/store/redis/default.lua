#!lua flags=allow-oom
-- The fleet's default job (GET /status): the first replica to ask stores its own, and every
-- replica answers that one until it expires like any job, --job-ttl after its end. One script,
-- so two replicas asking together agree. A hash missing a field, or a key of another type
-- (damaged by another program), is replaced. allow-oom: one small hash per --job-ttl, so
-- that GET /status still answers while Redis is full.
-- KEYS: the default job's hash. ARGV: c, d, e, o (see record.rs), expires_ms
local kept = redis.pcall('HMGET', KEYS[1], 'c', 'd', 'e', 'o')
if kept.err or not (kept[1] and kept[2] and kept[3] and kept[4]) then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'c', ARGV[1], 'd', ARGV[2], 'e', ARGV[3], 'o', ARGV[4])
  redis.call('PEXPIREAT', KEYS[1], ARGV[5])
end
return redis.call('HMGET', KEYS[1], 'c', 'd', 'e', 'o', 'x')
