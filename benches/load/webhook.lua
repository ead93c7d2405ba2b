-- wrk script for scripts/bench-load: signed GitHub push webhooks, each with its own delivery id.
--
-- Settings come from the environment (scripts/bench-load sets them):
--   LOAD_BODY       file holding the JSON payload, sent as is
--   LOAD_SIGNATURE  its "sha256=<hex HMAC-SHA256>": GitHub signs the body only, so one body and
--                   one signature serve every request while X-GitHub-Delivery changes
--   LOAD_PATH       request path (/webhooks/github)
--   LOAD_RUN        label that starts every delivery id: "<LOAD_RUN>-<thread>-<n>"
--   LOAD_IDS        prefix of the per-thread files that get the body of every 2xx answer
--                   (the gateway answers {"id":"<envelope id>"}), one per line
--   LOAD_RESULT     file that done() writes its figures to, as key=value lines
--   LOAD_RATE       optional: webhooks per second for all threads together; each thread then
--                   hands out send times spaced 1/(rate/threads) apart to whichever of its
--                   connections is ready, so the rate holds while connections wait on answers
--   LOAD_LATENCIES  optional: file that done() writes the latency distribution to, for merging
--                   several wrk processes' latencies (scripts/bench-fleet): one "<percentile>
--                   <microseconds>" line per 0.1 percentile up to 99, per 0.01 above, and
--                   "100 <max>"
--
-- wrk measures the latencies itself (from writing a request to reading its whole answer).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

local function env(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error("wrk script: " .. name .. " is not set")
  end
  return value
end

-- Per-thread state (each wrk thread has its own Lua state).
ok = 0          -- 2xx answers
other = 0       -- any other status
statuses = {}   -- status -> count, for the non-2xx ones
local n = 0
local head, body, ids

function init(args)
  local f = assert(io.open(env("LOAD_BODY"), "rb"))
  body = f:read("*a")
  f:close()
  local host = wrk.headers["Host"] or (wrk.host .. ":" .. tostring(wrk.port))
  head = "POST " .. env("LOAD_PATH") .. " HTTP/1.1\r\n"
    .. "Host: " .. host .. "\r\n"
    .. "User-Agent: GitHub-Hookshot/bench-load\r\n"
    .. "Content-Type: application/json\r\n"
    .. "Content-Length: " .. #body .. "\r\n"
    .. "X-GitHub-Event: push\r\n"
    .. "X-Hub-Signature-256: " .. env("LOAD_SIGNATURE") .. "\r\n"
    .. "X-GitHub-Delivery: " .. env("LOAD_RUN") .. "-" .. thread_no .. "-"
  ids = assert(io.open(env("LOAD_IDS") .. "." .. thread_no, "w"))
end

-- A steady rate (LOAD_RATE): wrk asks delay() before each request, on the connection that is
-- about to send; the answer is the milliseconds until this thread's next free send slot.
local rate = tonumber(os.getenv("LOAD_RATE") or "")
if rate ~= nil and rate > 0 then
  local ffi = require("ffi")
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } hookgate_timespec;
    int clock_gettime(int clock, hookgate_timespec *now);
  ]]
  local now = ffi.new("hookgate_timespec")
  local CLOCK_MONOTONIC = 1
  local function now_ms()
    ffi.C.clock_gettime(CLOCK_MONOTONIC, now)
    return tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
  end
  local interval_ms, next_ms
  function delay()
    if interval_ms == nil then
      local threads_total = tonumber(os.getenv("LOAD_THREADS") or "1")
      interval_ms = 1000 * threads_total / rate
    end
    local t = now_ms()
    -- A slot missed (the server or this thread fell behind) is not made up with a burst.
    local slot = (next_ms ~= nil and next_ms > t) and next_ms or t
    next_ms = slot + interval_ms
    return math.floor(slot - t + 0.5)
  end
end

function request()
  n = n + 1
  return head .. n .. "\r\n\r\n" .. body
end

function response(status, headers, answer)
  if status >= 200 and status < 300 then
    ok = ok + 1
    -- Buffered; the C library flushes it when wrk exits.
    ids:write(answer, "\n")
  else
    other = other + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local ok_total, other_total, by_status = 0, 0, {}
  for _, thread in ipairs(threads) do
    ok_total = ok_total + thread:get("ok")
    other_total = other_total + thread:get("other")
    for status, count in pairs(thread:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + count
    end
  end
  local listed = {}
  for status, count in pairs(by_status) do
    table.insert(listed, status .. ":" .. count)
  end
  table.sort(listed)
  local e = summary.errors
  local out = assert(io.open(env("LOAD_RESULT"), "w"))
  out:write(string.format(
    "requests=%.0f\nduration_us=%.0f\nok=%.0f\nnon2xx=%.0f\nstatuses=%s\n"
      .. "connect_errors=%.0f\nread_errors=%.0f\nwrite_errors=%.0f\ntimeouts=%.0f\n"
      .. "p50_us=%.0f\np99_us=%.0f\np999_us=%.0f\nmax_us=%.0f\n",
    summary.requests, summary.duration, ok_total, other_total, table.concat(listed, ","),
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
  out:close()
  local file = os.getenv("LOAD_LATENCIES")
  if file ~= nil and file ~= "" then
    local grid = assert(io.open(file, "w"))
    -- Whole steps of 0.1 and 0.01 (integers scaled), so no percentile is skipped or repeated.
    for tenth = 1, 990 do
      grid:write(string.format("%.1f %.0f\n", tenth / 10, latency:percentile(tenth / 10)))
    end
    for hundredth = 9901, 9999 do
      grid:write(string.format("%.2f %.0f\n", hundredth / 100, latency:percentile(hundredth / 100)))
    end
    grid:write(string.format("100 %.0f\n", latency.max))
    grid:close()
  end
end
