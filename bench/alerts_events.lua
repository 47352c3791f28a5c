-- wrk script: one PagerDuty-style event per request, for as long as wrk runs.
-- Triggers come from SOURCES dedup keys (a monitored estate re-triggering), every
-- body distinct (a sequence number), so each accepted event is one stored row.
local token = os.getenv("ALERTS_TOKEN")
local sources = tonumber(os.getenv("EVENT_SOURCES") or "100")
local counter = 1
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  seq, accepted, rejected = 0, 0, 0
  headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
end

function request()
  seq = seq + 1
  local body = string.format('{"event_action":"trigger","dedup_key":"svc-%d","payload":{"summary":' ..
    '"service %d slow","source":"zabbix","severity":"warning","custom_details":{"category":"system",' ..
    '"seq":"%d-%d"}}}', seq % sources, seq % sources, id, seq)
  return wrk.format("POST", "/api/v1/alerts/events", headers, body)
end

function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else rejected = rejected + 1 end
end

function done(summary, latency, requests)
  local acc, rej = 0, 0
  for _, t in ipairs(threads) do
    acc = acc + t:get("accepted")
    rej = rej + t:get("rejected")
  end
  io.write(string.format('RESULT {"accepted_requests":%d,"rejected_requests":%d,"socket_errors":%d,' ..
    '"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n', acc, rej,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99), latency.max))
end
