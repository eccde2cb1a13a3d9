-- Shared by the scripts: count answers per connection thread, report the totals at the end.
--
-- wrk runs the script once per thread plus once in a main state; setup() runs in the main
-- state for each thread and done() there at the end, so the totals are read from the threads'
-- own states with thread:get(). The script that loads this file names its counters in
-- `counters` (globals of the thread states).
--
-- done() prints one line for the driver: BENCH_RESULT {"<counter>":<n>,...}

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local fields = {}
  for _, name in ipairs(counters) do
    local total = 0
    for _, thread in ipairs(threads) do
      total = total + (thread:get(name) or 0)
    end
    fields[#fields + 1] = string.format('"%s":%d', name, total)
  end
  io.write("BENCH_RESULT {" .. table.concat(fields, ",") .. "}\n")
end

-- A body template with "@@" where a value goes: returns the parts before and after it.
function split_template(template)
  local before, after = template:match("^(.-)@@(.*)$")
  assert(before, "the body template has no @@: " .. template)
  return before, after
end
