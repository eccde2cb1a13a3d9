-- One API call, repeated on every connection. Set up by the driver through the environment:
--   BENCH_PATH, BENCH_AUTHORIZATION, BENCH_CONTENT_TYPE   the request
--   BENCH_BODY          the body; with BENCH_TOKENS_FILE, "@@" in it is replaced by each
--                       token of that file in turn (one per line), round robin
--   BENCH_EXPECT        text every good answer's body contains, e.g. "action":"OK": the
--                       authorization API answers 200 also when the call itself failed,
--                       so the status alone proves nothing
--   BENCH_LUA_DIR       where summary.lua is

local env = os.getenv
dofile(env("BENCH_LUA_DIR") .. "/summary.lua")

counters = {"responses", "bad", "completed"}
responses, bad, completed = 0, 0, 0

local expect = env("BENCH_EXPECT")

wrk.method = "POST"
wrk.path = env("BENCH_PATH")
wrk.headers["Authorization"] = env("BENCH_AUTHORIZATION")
wrk.headers["Content-Type"] = env("BENCH_CONTENT_TYPE")
wrk.body = env("BENCH_BODY")

local tokens_file = env("BENCH_TOKENS_FILE") or ""
if tokens_file ~= "" then
  local prepared, last = {}, 0

  -- In init(), not at load time: wrk adds the Host header to wrk.headers just before it.
  function init(args)
    local before, after = split_template(wrk.body)
    for token in io.lines(tokens_file) do
      prepared[#prepared + 1] = wrk.format(nil, nil, nil, before .. token .. after)
    end
    assert(#prepared > 0, "no tokens in " .. tokens_file)
  end

  function request()
    last = last % #prepared + 1
    return prepared[last]
  end
end

function response(status, headers, body)
  responses = responses + 1
  if status >= 200 and status < 300 and body:find(expect, 1, true) then
    completed = completed + 1
  else
    bad = bad + 1
  end
end
