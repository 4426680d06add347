-- wrk script of the soak run: cycles through $URLS (gzip accepted, as
-- browsers ask) and counts every status, which done() prints per code.
local paths = {}
for line in io.lines(os.getenv("URLS")) do
  paths[#paths + 1] = line
end
local headers = { ["Accept-Encoding"] = "gzip" }
local threads = {}
local i = 0

setup = function(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

init = function()
  counts = {}
  -- Threads start at different places in the list.
  i = (id or 0) * 997
end

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], headers)
end

response = function(status)
  counts[status] = (counts[status] or 0) + 1
end

done = function(summary)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local codes = {}
  for status in pairs(total) do codes[#codes + 1] = status end
  table.sort(codes)
  for _, status in ipairs(codes) do
    io.write(string.format("status %d: %d\n", status, total[status]))
  end
  io.write(string.format("socket errors: connect %d, read %d, write %d, timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
