-- POST /mcp: a tools/call of document_get on the 10,000 warm keys, in one
-- of three shapes (MCP_ERA):
--   stateless  the 2026-07-28 era: no session; version, method and name in
--              headers and _meta
--   session    the session era on one session (MCP_SESSION) for every
--              connection: a busy client; backend-mcp's one-second cache
--              answers for it between lookups
--   cold       the session era on a block of MCP_BLOCK sessions (ids
--              printf "%032x" of MCP_BASE+1 .. MCP_BASE+MCP_BLOCK, made by
--              run.sh, idle since), each wrk thread taking them in turn from
--              its own half: no session is seen twice within a second, so
--              every request looks its session up in PostgreSQL
local token = os.getenv("TOKEN")
local era = os.getenv("MCP_ERA")
local sid = os.getenv("MCP_SESSION")
local n = tonumber(os.getenv("MCP_BLOCK") or "1")
local base = tonumber(os.getenv("MCP_BASE") or "0")
local threads = 0
math.randomseed(os.time())

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local next_sid = nil

local function body(k, meta)
  return '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"document_get",'
    .. '"arguments":{"namespace":"bench","key":"k' .. k .. '"}' .. meta .. '}}'
end

request = function()
  local k = math.random(1, 10000)
  local h = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json",
             ["Accept"] = "application/json, text/event-stream"}
  if era == "stateless" then
    h["MCP-Protocol-Version"] = "2026-07-28"
    h["Mcp-Method"] = "tools/call"
    h["Mcp-Name"] = "document_get"
    return wrk.format("POST", "/mcp", h, body(k, ',"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
      .. '"io.modelcontextprotocol/clientCapabilities":{}}'))
  end
  h["MCP-Protocol-Version"] = "2025-11-25"
  if era == "cold" then
    if next_sid == nil then next_sid = (tid or 0) * math.floor(n / 2) end
    next_sid = next_sid % n + 1
    h["Mcp-Session-Id"] = string.format("%032x", base + next_sid)
  else
    h["Mcp-Session-Id"] = sid
  end
  return wrk.format("POST", "/mcp", h, body(k, ""))
end
