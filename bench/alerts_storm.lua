-- wrk script: an Alertmanager alert storm. Each POST carries ALERTS_PER_REQUEST
-- distinct alerts of one of GROUPS groups; each thread sends exactly its quota of
-- POSTs and then stops. Once a thread has handed out its quota, connections that
-- are still open get a cheap GET /healthz so no extra alert is ever sent (with one
-- connection per thread this does not happen in practice).
local token = os.getenv("ALERTS_TOKEN")
local total = tonumber(os.getenv("STORM_REQUESTS"))
local per_request = tonumber(os.getenv("ALERTS_PER_REQUEST") or "10")
local groups = tonumber(os.getenv("STORM_GROUPS") or "100")
local counter = 1
local threads = {}

function setup(thread)
  -- One connection per thread (-t 16 -c 16): a thread's next POST waits for its last answer.
  local threads_n = tonumber(os.getenv("STORM_THREADS"))
  thread:set("quota", math.floor(total / threads_n) + ((counter <= total % threads_n) and 1 or 0))
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  accepted, rejected = 0, 0
  post_headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
end

function request()
  -- Numbered by answers, not by calls: a request wrk builds again (reconnect) is the
  -- same request, byte for byte, so it can neither be lost from the count nor doubled.
  local sent = accepted + rejected + 1
  if sent > quota then
    return wrk.format("GET", "/healthz")
  end
  local group = "storm-" .. ((sent * 7 + id) % groups)
  local alerts = {}
  for i = 1, per_request do
    alerts[i] = string.format(
      '{"status":"firing","labels":{"alertname":"BranchLinkDown","category":"network","severity":"warning",' ..
      '"branch":"b%d-%d-%d"},"annotations":{"summary":"branch link down %d-%d-%d"},' ..
      '"startsAt":"2024-05-01T08:00:00.000000000Z","endsAt":"0001-01-01T00:00:00Z",' ..
      '"generatorURL":"http://prometheus/graph","fingerprint":"t%d-%d-%d"}', id, sent, i, id, sent, i, id, sent, i)
  end
  local body = string.format('{"version":"4","groupKey":"{}:{alertname=\\"%s\\"}","truncatedAlerts":0,' ..
    '"status":"firing","receiver":"fenghuo","groupLabels":{"alertname":"%s"},"commonLabels":{},' ..
    '"commonAnnotations":{},"externalURL":"http://alertmanager","alerts":[%s]}',
    group, group, table.concat(alerts, ","))
  return wrk.format("POST", "/api/v1/alerts/alertmanager", post_headers, body)
end

function response(status, headers, body)
  if status == 200 then return end  -- a /healthz filler
  if status == 202 then accepted = accepted + 1 else rejected = rejected + 1 end
  if accepted + rejected >= quota then wrk.thread:stop() end
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
