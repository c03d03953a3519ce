-- The fleet's default job (GET /status): the first replica to ask stores its own, and every
-- replica answers that one. One script, so two replicas asking together agree.
-- KEYS: the default job's hash. ARGV: c, d, e, o (see record.rs)
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'c', ARGV[1], 'd', ARGV[2], 'e', ARGV[3], 'o', ARGV[4])
end
return redis.call('HMGET', KEYS[1], 'c', 'd', 'e', 'o', 'x')
