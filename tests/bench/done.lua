-- Appended to every wrk script by run.sh: one machine-readable line at the
-- end of a run, "BENCH requests duration_us p50_ms p99_ms p999_ms errors",
-- errors counting every non-2xx/3xx answer (wrk's status errors), connect,
-- read and write errors and timeouts (an overloaded backend's 503 is one).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %.3f %.3f %.3f %d\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    e.connect + e.read + e.write + e.status + e.timeout))
end
