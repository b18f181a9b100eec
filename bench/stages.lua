-- stages.lua: wrk script for bench/stages.sh. Asks ROUTE..1, ROUTE..2, … ROUTE..100, round and
-- round (so the workers answer for every user, not one cached line), and prints one
-- machine-readable summary line at the end:
--   wrk -t1 -c32 -d10s -s bench/stages.lua http://127.0.0.1:PORT -- /sync/
--   … STAGES requests=N seconds=S rps=R p50_us=A p99_us=B non2xx=E errors=F
local route = "/sync/"
local requests = {}
local user = 0

-- The 100 requests are formatted once: formatting one per request cost wrk about half of its
-- user CPU, taken from the same two cores as the servers it measures (and five times more of it
-- against the faster server).
function init(args)
  if args[1] then route = args[1] end
  for id = 1, 100 do requests[id] = wrk.format("GET", route .. id) end
end

function request()
  user = user % 100 + 1
  return requests[user]
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "STAGES requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d non2xx=%d errors=%d\n",
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
