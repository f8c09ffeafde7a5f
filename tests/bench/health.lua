-- GET /health (no token).
request = function() return wrk.format("GET", "/health") end
