-- wrk script: every request carries the next token of a file (one per line), so no token
-- repeats until the whole pool has been used. Usage: wrk -s fresh_tokens.lua URL -- FILE
local tokens = {}
local next_token = 0
local threads = {}

function setup(thread)
  thread:set("offset", #threads * 997)  -- threads start at different places in the pool
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  next_token = offset or 0
end

function request()
  next_token = next_token % #tokens + 1
  return wrk.format(nil, nil, {["Authorization"] = "Bearer " .. tokens[next_token]})
end
