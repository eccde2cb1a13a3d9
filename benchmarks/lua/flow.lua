-- Chained Tessera API calls, each answer deciding the next call of its chain.
--
--   BENCH_FLOW=auth-code  /auth/authorization → /auth/authorization/issue → /auth/token
--                         (authorization_code): one code exchange per chain
--   BENCH_FLOW=mixed      alternately that chain followed by a refresh (/auth/token,
--                         refresh_token) and an introspection of the new access token, and a
--                         client credentials token followed by its introspection (soak mode)
--
-- wrk's request() is not told which connection it is for, and wrk calls it when a connection
-- is writable again, in a later pass of its event loop, not right after response() for that
-- connection; with several connections the calls interleave. So no "current step" can be kept
-- per connection. Instead each answer names its successor: response() queues the next request
-- of its chain and request() sends the oldest queued one on whichever connection is free, or
-- starts a new chain. A connection has one request in flight, so the queue stays short.
--
-- Environment (bodies are JSON; "@@" marks where the value from the previous answer goes):
--   BENCH_AUTHORIZATION   Basic credentials of the service
--   BENCH_AUTHORIZE_BODY, BENCH_ISSUE_BODY (@@ ticket), BENCH_CODE_BODY (@@ code),
--   BENCH_REFRESH_BODY (@@ refresh token), BENCH_CC_BODY, BENCH_INTROSPECT_BODY (@@ token)
--   BENCH_LUA_DIR         where summary.lua is

local env = os.getenv
dofile(env("BENCH_LUA_DIR") .. "/summary.lua")

counters = {"responses", "bad", "completed", "exchanged", "refreshed", "issued", "introspected"}
responses, bad, completed, exchanged, refreshed, issued, introspected = 0, 0, 0, 0, 0, 0, 0

local mixed = env("BENCH_FLOW") == "mixed"

wrk.method = "POST"
wrk.headers["Authorization"] = env("BENCH_AUTHORIZATION")
wrk.headers["Content-Type"] = "application/json"

local function post(path, body)
  return wrk.format("POST", path, nil, body)
end

local function templated(path, name)
  local before, after = split_template(env(name))
  return function(value) return post(path, before .. value .. after) end
end

local authorize, issue, exchange, client_credentials, refresh, introspect

-- In init(), not at load time: wrk adds the Host header to wrk.headers just before it.
function init(args)
  authorize = post("/api/auth/authorization", env("BENCH_AUTHORIZE_BODY"))
  issue = templated("/api/auth/authorization/issue", "BENCH_ISSUE_BODY")
  exchange = templated("/api/auth/token", "BENCH_CODE_BODY")
  if mixed then
    client_credentials = post("/api/auth/token", env("BENCH_CC_BODY"))
    refresh = templated("/api/auth/token", "BENCH_REFRESH_BODY")
    introspect = templated("/api/auth/introspection", "BENCH_INTROSPECT_BODY")
  end
end

local function member(body, name)
  return body:match('"' .. name .. '":"([^"]+)"')
end

local function code_of(body)
  -- The LOCATION answer's responseContent is the redirect URI with the code in its query.
  local location = member(body, "responseContent")
  return location and location:match("[?&]code=([^&]+)")
end

-- What follows each successful answer, by its result code (nil ends the chain).
local next_step = {
  A004001 = function(body)  -- INTERACTION: the ticket of the authorization request
    local ticket = member(body, "ticket")
    return ticket and issue(ticket)
  end,
  A040001 = function(body)  -- LOCATION: the authorization code
    local code = code_of(body)
    return code and exchange(code)
  end,
  A050001 = function(body)  -- the code exchanged for tokens
    exchanged = exchanged + 1
    if not mixed then
      completed = completed + 1
      return false
    end
    local token = member(body, "refreshToken")
    return token and refresh(token)
  end,
  A053001 = function(body)  -- refreshed
    refreshed = refreshed + 1
    local token = member(body, "accessToken")
    return token and introspect(token)
  end,
  A052001 = function(body)  -- client credentials token
    issued = issued + 1
    local token = member(body, "accessToken")
    return token and introspect(token)
  end,
  A056001 = function(body)  -- introspected: the chain is complete
    introspected = introspected + 1
    completed = completed + 1
    return false
  end,
}

local queue, head, tail, chains = {}, 1, 0, 0

function request()
  if head <= tail then
    local queued = queue[head]
    queue[head] = nil
    head = head + 1
    return queued
  end
  chains = chains + 1
  if mixed and chains % 2 == 0 then
    return client_credentials
  end
  return authorize
end

function response(status, headers, body)
  responses = responses + 1
  local step = status == 200 and next_step[member(body, "resultCode") or ""]
  -- A step answers nil when the value it needs is missing from its answer.
  local following = step and step(body)
  if not step or following == nil then
    bad = bad + 1
  elseif following then
    tail = tail + 1
    queue[tail] = following
  end
end
