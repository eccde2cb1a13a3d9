// node-oidc-provider 9.x configured as a load-test peer for Tessera:
// client_credentials at the token endpoint (client_secret_basic) and token
// introspection, with the provider's state in memory, Redis or PostgreSQL.
// Configuration: environment variables, see README.md. Prints one line
// "READY http://127.0.0.1:<port>" on stdout once it accepts connections.

import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';

const env = process.env;
const PORT = Number(env.PEER_PORT || 3000);
const HOST = '127.0.0.1';
const ISSUER = `http://${HOST}:${PORT}`;
const STORE = env.PEER_STORE || 'memory';
const FORMAT = env.PEER_ACCESS_TOKEN_FORMAT || 'opaque';
const RESET = env.PEER_RESET !== '0';

// The one resource server every token is issued for.
const RESOURCE = 'https://api.example.com';
const RESOURCE_SCOPE = 'api:read api:write';

const TOKEN_FORMATS = {
  opaque: { accessTokenFormat: 'opaque' },
  'jwt-es256': { accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } },
  'jwt-rs256': { accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } },
};

function fail(message) {
  process.stderr.write(`peer: ${message}\n`);
  process.exit(2);
}

if (!TOKEN_FORMATS[FORMAT]) fail(`PEER_ACCESS_TOKEN_FORMAT must be one of ${Object.keys(TOKEN_FORMATS).join(', ')}`);
if (!Number.isInteger(PORT) || PORT <= 0 || PORT > 65535) fail('PEER_PORT must be a TCP port number');

// Storage adapter ("adapter" option): undefined selects the provider's
// built-in in-memory LRU store (1,000 entries, development only).
let adapter;
let closeStore = async () => {};
if (STORE === 'postgres') {
  const { default: PostgresAdapter } = await import('./adapters/postgres.mjs');
  await PostgresAdapter.connect(env.PEER_PG_URL || 'postgres://postgres@127.0.0.1:5432/peer_bench', {
    max: Number(env.PEER_PG_POOL || 10),
    reset: RESET,
  });
  adapter = PostgresAdapter;
  closeStore = () => PostgresAdapter.disconnect();
} else if (STORE === 'redis') {
  const { default: RedisAdapter } = await import('./adapters/redis.mjs');
  await RedisAdapter.connect(env.PEER_REDIS_URL || 'redis://127.0.0.1:6379/0', {
    prefix: env.PEER_REDIS_PREFIX || 'peer:',
    reset: RESET,
  });
  adapter = RedisAdapter;
  closeStore = () => RedisAdapter.disconnect();
} else if (STORE !== 'memory') {
  fail('PEER_STORE must be memory, redis or postgres');
}

// Signing keys ("jwks" option, private JWKs), fresh at every start: one
// P-256 key for ES256 and one RSA 2048 key for RS256. The provider picks the
// key matching the resource server's jwt.sign.alg.
function signingKey(kid, alg, type, options) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}
const jwks = {
  keys: [
    signingKey('es256', 'ES256', 'ec', { namedCurve: 'P-256' }),
    signingKey('rs256', 'RS256', 'rsa', { modulusLength: 2048 }),
  ],
};

const configuration = {
  adapter,
  jwks,

  // "scopes": the scope values the provider accepts; a client's registered
  // scope must be a subset of them.
  scopes: RESOURCE_SCOPE.split(' '),

  // "ttl": lifetime in seconds. Set explicitly because the default function
  // prints a one-time NOTICE on stdout at the first token request.
  ttl: { ClientCredentials: 600 },

  // "clientBasedCORS": no browser clients; also avoids the default's NOTICE.
  clientBasedCORS: () => false,

  // Static clients come from this list (kept in the provider's own cache);
  // the adapter's Client model is only asked for client ids not found here.
  clients: [{
    client_id: 'bench-client',
    client_secret: 'bench-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: RESOURCE_SCOPE,
  }],

  features: {
    // No login/consent pages: nothing here uses the authorization endpoint.
    devInteractions: { enabled: false },

    // features.clientCredentials: the client_credentials grant at /token.
    clientCredentials: { enabled: true },

    // features.introspection: /token/introspection (RFC 7662). The policy
    // lets a client introspect the tokens issued to itself only.
    introspection: {
      enabled: true,
      allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId,
    },

    // features.resourceIndicators (RFC 8707): a client_credentials token gets
    // its audience, scope and format from a resource server. Without a
    // `resource` parameter every token is for RESOURCE (defaultResource), and
    // getResourceServerInfo decides opaque or JWT (and the JWS alg).
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => RESOURCE,
      getResourceServerInfo: async (ctx, resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
        return { scope: RESOURCE_SCOPE, ...TOKEN_FORMATS[FORMAT] };
      },
    },
  },
};

const provider = new Provider(ISSUER, configuration);

// A request that fails inside the provider (e.g. the store is down) answers
// 500 and is only reported as a "server_error" event (docs/events.md): print
// one line on stderr for each, so a broken store shows up.
provider.on('server_error', (ctx, err) => process.stderr.write(`peer: server_error: ${err.message}\n`));

const server = createServer(provider.callback());
server.keepAliveTimeout = 65_000;
server.listen(PORT, HOST, () => {
  process.stdout.write(`READY ${ISSUER}\n`);
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections();
  try {
    await closeStore();
  } finally {
    process.exit(0);
  }
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
