-- POST /document: a new version of one of 10,000 keys.
local token = os.getenv("TOKEN")
math.randomseed(os.time())
request = function()
  local k = math.random(1, 10000)
  local body = '{"namespace":"benchw","key":"w' .. k .. '","payload":{"n":' .. k .. '}}'
  return wrk.format("POST", "/document", {["Authorization"] = "Bearer " .. token}, body)
end
