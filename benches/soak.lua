-- soak.lua: wrk script of benches/soak.sh. Each connection walks the path list from its own
-- random start; at the end one line "SOAK {json}" with the totals, latencies and errors
-- (non2xx: answers other than 2xx/3xx).
local paths, i = {}, 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  assert(#paths > 0, "no paths in " .. args[1])
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  i = math.random(#paths) - 1
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'SOAK {"requests":%d,"duration_s":%.1f,"rps":%.1f,"p50_ms":%.1f,"p99_ms":%.1f,"max_ms":%.1f,' ..
    '"non2xx":%d,"connect_err":%d,"read_err":%d,"write_err":%d,"timeouts":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect, e.read, e.write, e.timeout))
end
