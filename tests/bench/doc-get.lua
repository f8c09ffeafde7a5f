-- GET /document/bench/k<1..10000>: a warm key set (preloaded by run.sh).
local token = os.getenv("TOKEN")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/document/bench/k" .. math.random(1, 10000), {["Authorization"] = "Bearer " .. token})
end
