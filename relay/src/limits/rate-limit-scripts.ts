/**
 * The rate-limit bucket as one Lua script: Redis runs it to its end before any other command, so
 * relays hammering one bucket at once can never admit more than the rule allows. It is GCRA as
 * in gcra.ts, the same double arithmetic in the same order (the store re-derives the decision's
 * numbers with gcraDecide from what the script returns, and checks that both agree).
 *
 * KEYS[1]: the bucket, a string holding its TAT in milliseconds (`%.17g`, so it reads back
 * exactly), with a PX expiry at the moment it is full again: an idle bucket vanishes.
 * ARGV: now ('' = the Redis server's own TIME, so relays with skewed clocks agree), interval T,
 * admit (τ plus slack, see gcraParams), tolerance τ, cost, lockoutMs, write ('1' take, '0' peek).
 * Returns {allowed (1/0), now, TAT before ('' when none)}.
 */
export const RATE_LIMIT_TAKE = `
local now
if ARGV[1] == '' then
  -- TIME before a write needs effects replication: the default since Redis 5, explicit before.
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
else
  now = tonumber(ARGV[1])
end
local interval = tonumber(ARGV[2])
local admit = tonumber(ARGV[3])
local tolerance = tonumber(ARGV[4])
local cost = tonumber(ARGV[5])
local lockout = tonumber(ARGV[6])
local raw = redis.call('GET', KEYS[1])
local base = now
if raw then
  local tat = tonumber(raw)
  if tat >= now then base = tat end
end
local nxt = base + cost * interval
if nxt - now > admit then return {0, string.format('%.17g', now), raw or ''} end
if lockout > 0 and cost > 0 and nxt + interval - now > admit then
  nxt = math.max(nxt, now + lockout + tolerance - interval)
end
if ARGV[7] == '1' and cost > 0 then
  redis.call('SET', KEYS[1], string.format('%.17g', nxt), 'PX', math.max(1, math.ceil(nxt - now)))
end
return {1, string.format('%.17g', now), raw or ''}
`;
