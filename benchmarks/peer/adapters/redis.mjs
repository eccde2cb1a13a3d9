// Redis storage adapter for oidc-provider 9.x (same interface as
// ./postgres.mjs; see oidc-provider docs/README.md, "adapter" option).
//
// Key layout, all under a prefix (default "peer:") so a shared Redis can be
// cleaned without touching anything else:
//   <prefix><Model>:<id>        the payload as a JSON string, SET ... EX ttl
//   <prefix>grant:<grantId>     a set of the token keys issued under that grant
//   <prefix>userCode:<Model>:<code>  id of the record holding that user code
//   <prefix>uid:<Model>:<uid>        id of the record with that uid (Sessions)
// Redis expires the keys itself, so find() needs no expiry check. The grant
// set's TTL is raised to the longest-lived member's (EXPIRE NX + GT, Redis 7).

import Redis from 'ioredis';

// Models whose records hang off a grant and go when it is revoked
// (Interaction also carries a grantId but is not a token).
const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

export default class RedisAdapter {
  /** @type {Redis | undefined} one connection shared by all models */
  static client;

  static prefix = 'peer:';

  /**
   * Connect, and when reset is set delete every key under the prefix
   * (SCAN + UNLINK, so other data in the same DB is left alone).
   * @param {string} url e.g. redis://127.0.0.1:6379/0
   * @param {{ prefix?: string, reset?: boolean }} options
   */
  static async connect(url, { prefix = 'peer:', reset = false } = {}) {
    RedisAdapter.prefix = prefix;
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    RedisAdapter.client = client;
    if (reset) {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length) await client.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  }

  static async disconnect() {
    await RedisAdapter.client?.quit();
    RedisAdapter.client = undefined;
  }

  /** @param {string} name model name, e.g. "ClientCredentials", "Session" */
  constructor(name) {
    this.name = name;
  }

  get #redis() {
    if (!RedisAdapter.client) throw new Error('RedisAdapter.connect() was not called');
    return RedisAdapter.client;
  }

  #key(id) {
    return `${RedisAdapter.prefix}${this.name}:${id}`;
  }

  static #grantKey(grantId) {
    return `${RedisAdapter.prefix}grant:${grantId}`;
  }

  #indexKey(kind, value) {
    return `${RedisAdapter.prefix}${kind}:${this.name}:${value}`;
  }

  /**
   * Store the payload; expiresIn is in seconds (undefined: no expiry). The
   * common case (no grant, no user code, no uid: e.g. a client_credentials
   * token) is one SET; otherwise the index writes go in the same MULTI.
   */
  async upsert(id, payload, expiresIn) {
    const key = this.#key(id);
    const ttl = typeof expiresIn === 'number' ? Math.max(1, Math.ceil(expiresIn)) : undefined;
    const set = (k, v) => (ttl ? ['set', k, v, 'EX', ttl] : ['set', k, v]);

    const commands = [set(key, JSON.stringify(payload))];
    if (payload.grantId && GRANTABLE.has(this.name)) {
      const grantKey = RedisAdapter.#grantKey(payload.grantId);
      commands.push(['sadd', grantKey, key]);
      if (ttl) {
        commands.push(['expire', grantKey, ttl, 'NX'], ['expire', grantKey, ttl, 'GT']);
      } else {
        commands.push(['persist', grantKey]);
      }
    }
    if (payload.userCode) commands.push(set(this.#indexKey('userCode', payload.userCode), id));
    if (payload.uid) commands.push(set(this.#indexKey('uid', payload.uid), id));

    if (commands.length === 1) {
      await this.#redis.set(...commands[0].slice(1));
    } else {
      const results = await this.#redis.multi(commands).exec();
      const failed = results.find(([err]) => err);
      if (failed) throw failed[0];
    }
  }

  /** The stored payload, or undefined when missing or expired. */
  async find(id) {
    const json = await this.#redis.get(this.#key(id));
    return json ? JSON.parse(json) : undefined;
  }

  async findByUid(uid) {
    const id = await this.#redis.get(this.#indexKey('uid', uid));
    return id ? this.find(id) : undefined;
  }

  async findByUserCode(userCode) {
    const id = await this.#redis.get(this.#indexKey('userCode', userCode));
    return id ? this.find(id) : undefined;
  }

  /**
   * Mark a one-time record as used: rewrite the JSON with `consumed` (epoch
   * seconds), keeping its TTL (KEEPTTL) and only if it still exists (XX).
   */
  async consume(id) {
    const key = this.#key(id);
    const json = await this.#redis.get(key);
    if (!json) return;
    const payload = { ...JSON.parse(json), consumed: Math.floor(Date.now() / 1000) };
    await this.#redis.set(key, JSON.stringify(payload), 'KEEPTTL', 'XX');
  }

  async destroy(id) {
    await this.#redis.unlink(this.#key(id));
  }

  /** Drop every record issued under the grant, and the grant's index set. */
  async revokeByGrantId(grantId) {
    const grantKey = RedisAdapter.#grantKey(grantId);
    const members = await this.#redis.smembers(grantKey);
    await this.#redis.unlink(grantKey, ...members);
  }
}
