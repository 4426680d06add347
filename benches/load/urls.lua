-- wrk script: cycle through the request list in $URLS, asking for gzip as
-- browsers do (every server then sends the stored gzip bytes as they are),
-- or, with ENCODING=identity, not (the server must decompress each tile).
local paths = {}
for line in io.lines(os.getenv("URLS")) do
  paths[#paths + 1] = line
end
local headers = { ["Accept-Encoding"] = "gzip" }
if os.getenv("ENCODING") == "identity" then
  headers = {}
end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], headers)
end
