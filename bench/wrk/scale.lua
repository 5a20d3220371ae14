-- wrk's script for bench/scale.py. Settings come from the environment:
--   BENCH_MODE      lookup | list | soak
--   BENCH_SESSIONS  a file of sessions, one per line: "<Cookie header>\t<CSRF token>";
--                   every request takes the next one, so N lines are N sessions in use
--   BENCH_NRNS      (lookup) a file of national registry numbers to look up, one per line
--   BENCH_THINK_MS  the mean pause between a connection's requests (a user reading):
--                   uniform between half and one and a half times it; default 0
--   BENCH_THREADS   wrk's -t, so threads take turns through the sessions
--   BENCH_TIMELINE  (optional) a path: each thread writes "<sent, µs since the epoch>
--                   <latency µs> <status>" per request to <path>.<thread>, to see when in
--                   a run the slow requests come. Exact for one connection per thread.
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

-- With BENCH_TIMELINE set: each request's send time and latency, one line per request.
local timeline = os.getenv("BENCH_TIMELINE")
if timeline then
  -- wrk's Lua has no wall clock of its own; LuaJIT's FFI reaches clock_gettime.
  local ffi = require("ffi")
  ffi.cdef("typedef struct { long s; long ns; } kluis_ts; int clock_gettime(int, kluis_ts *);")
  local ts = ffi.new("kluis_ts")
  local function now_us()
    ffi.C.clock_gettime(0, ts) -- CLOCK_REALTIME, to set beside other logs
    return tonumber(ts.s) * 1000000 + tonumber(ts.ns) / 1000
  end
  local sent, out = 0, nil
  local build = request
  function request()
    sent = now_us()
    return build()
  end
  function response(status)
    if out == nil then
      out = io.open(timeline .. "." .. tostring(first or 0), "w")
      out:setvbuf("line")
    end
    out:write(string.format("%.0f %.0f %d\n", sent, now_us() - sent, status))
  end
end
