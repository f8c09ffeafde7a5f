-- GET /sql/tables/bench/rows?limit=100: the first page of 100 rows.
local token = os.getenv("TOKEN")
request = function()
  return wrk.format("GET", "/sql/tables/bench/rows?limit=100", {["Authorization"] = "Bearer " .. token})
end
