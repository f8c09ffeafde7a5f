-- lighttpd answers 500 when a mode process dies after taking a request and
-- before answering it (kill -9, a crash): its generic "backend failed"
-- status. The contract keeps 500 for bugs, and clients should retry a dead
-- process's request: so lighttpd's own 500 (a mode's responses always carry
-- X-Request-Id, lighttpd's error pages never do) becomes 502 bad_gateway.
-- Run at every response start (magnet.attract-response-start-to), except
-- /mcp's, which no module touches.
local r = lighty.r
if r.req_item.http_status == 500 and r.resp_header["X-Request-Id"] == nil then
  r.resp_body:set({'{"error":"bad_gateway","detail":"a mode process failed while answering; retry"}'})
  return 502
end
return 0
