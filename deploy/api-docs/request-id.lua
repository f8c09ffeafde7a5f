-- /docs is lighttpd's own (static files): no mode process gives its
-- responses the X-Request-Id every response carries (docs/errors.md),
-- so this does, at every response start of /docs: the client's id when it
-- is 1 to 64 characters of [A-Za-z0-9._-], else a new one.
local r = lighty.r
local id = r.req_header["X-Request-Id"]
if id == nil or #id < 1 or #id > 64 or id:find("[^A-Za-z0-9._-]") then
  local rand = (lighty.c and lighty.c.rand) or function() return math.random(0, 0x7fffffff) end
  id = string.format("%08x%08x", rand() % 0x100000000, rand() % 0x100000000)
end
r.resp_header["X-Request-Id"] = id
return 0
