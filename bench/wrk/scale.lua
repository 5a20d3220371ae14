-- wrk's script for bench/scale.py. Settings come from the environment:
--   BENCH_MODE      lookup | list | soak
--   BENCH_SESSIONS  a file of sessions, one per line: "<Cookie header>\t<CSRF token>";
--                   every request takes the next one, so N lines are N sessions in use
--   BENCH_NRNS      (lookup) a file of national registry numbers to look up, one per line
--   BENCH_THINK_MS  the mean pause between a connection's requests (a user reading):
--                   uniform between half and one and a half times it; default 0
--   BENCH_THREADS   wrk's -t, so threads take turns through the sessions
-- done() prints one JSON line with the counts and the latency percentiles (microseconds).

local function lines(path)
  local found = {}
  if path and path ~= "" then
    for line in io.lines(path) do found[#found + 1] = line end
  end
  return found
end

local mode = os.getenv("BENCH_MODE") or "list"
local sessions = lines(os.getenv("BENCH_SESSIONS"))
local nrns = lines(os.getenv("BENCH_NRNS"))
local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
local think = tonumber(os.getenv("BENCH_THINK_MS") or "0")
-- What a logged-in citizen does in the soak, one path per request, in turn.
local soak = {
  "/api/v1/documents", "/api/v1/me", "/api/v1/documents", "/api/v1/usage",
  "/api/v1/history", "/api/v1/documents?category=identity",
}

local next_thread = 0
function setup(thread)
  thread:set("first", next_thread)
  next_thread = next_thread + 1
end

local turn = 0
function init(args)
  turn = first or 0
  math.randomseed(os.time() + turn)
end

if think > 0 then
  -- Random, so the connections' requests do not arrive in step.
  function delay()
    return math.random(math.floor(think / 2), math.floor(think * 3 / 2))
  end
end

function request()
  turn = turn + threads
  local cookie, token = sessions[(turn % #sessions) + 1]:match("^([^\t]*)\t(.*)$")
  local headers = { ["Cookie"] = cookie, ["x-csrftoken"] = token, ["Accept"] = "application/json" }
  if mode == "lookup" then
    headers["Content-Type"] = "application/json"
    local body = '{"nrn":"' .. nrns[(turn % #nrns) + 1] .. '","reason":"Estate file B-2026/0042"}'
    return wrk.format("POST", "/api/v1/estates/lookup", headers, body)
  elseif mode == "soak" then
    return wrk.format("GET", soak[(turn % #soak) + 1], headers)
  end
  return wrk.format("GET", "/api/v1/documents", headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
