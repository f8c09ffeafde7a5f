-- POST /files/temp with 64 KiB of bytes.
local token = os.getenv("TOKEN")
local body = string.rep("x", 65536)
request = function()
  return wrk.format("POST", "/files/temp", {["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/octet-stream"}, body)
end
