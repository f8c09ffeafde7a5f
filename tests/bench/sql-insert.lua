-- POST /sql/tables/bench/rows: one row.
local token = os.getenv("TOKEN")
math.randomseed(os.time())
request = function()
  local k = math.random(1, 1000000)
  local body = '{"sha": "s' .. k .. '", "n": ' .. k .. ', "ok": true}'
  return wrk.format("POST", "/sql/tables/bench/rows", {["Authorization"] = "Bearer " .. token}, body)
end
