// PostgreSQL storage adapter for oidc-provider 9.x.
//
// oidc-provider persists every stateful model (opaque access tokens,
// ClientCredentials tokens, codes, sessions, grants, ...) through an
// "adapter": a class constructed once per model name, whose methods are
// upsert / find / findByUid / findByUserCode / consume / destroy /
// revokeByGrantId (oidc-provider docs/README.md, "adapter" configuration
// option). Payloads are opaque JSON objects to the adapter; the provider
// verifies expiry and consumption itself, the adapter only stores them.
//
// Everything lives in one table keyed by (id, model name). Each upsert is a
// single INSERT ... ON CONFLICT DO UPDATE in autocommit mode, so with the
// server's default synchronous_commit every issued token is durable (WAL
// flushed) before the HTTP response is written.

import pg from 'pg';

const TABLE = 'oidc_payloads';

// Models whose records hang off a grant and go when it is revoked
// (Interaction also carries a grantId but is not a token).
const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ${TABLE} (
  id          text        NOT NULL,
  type        text        NOT NULL,
  payload     jsonb       NOT NULL,
  grant_id    text,
  user_code   text,
  uid         text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (id, type)
);
CREATE INDEX IF NOT EXISTS ${TABLE}_grant_id_idx  ON ${TABLE} (grant_id)  WHERE grant_id  IS NOT NULL;
CREATE INDEX IF NOT EXISTS ${TABLE}_user_code_idx ON ${TABLE} (user_code) WHERE user_code IS NOT NULL;
CREATE INDEX IF NOT EXISTS ${TABLE}_uid_idx       ON ${TABLE} (uid)       WHERE uid       IS NOT NULL;
`;

// A re-upsert replaces the payload and clears any earlier consumption, the
// way an overwrite of the whole record would.
const UPSERT = `
INSERT INTO ${TABLE} (id, type, payload, grant_id, user_code, uid, expires_at, consumed_at)
VALUES ($1, $2, $3::jsonb, $4, $5, $6,
        CASE WHEN $7::integer IS NULL THEN NULL ELSE now() + make_interval(secs => $7::integer) END,
        NULL)
ON CONFLICT (id, type) DO UPDATE SET
  payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, user_code = EXCLUDED.user_code,
  uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at, consumed_at = NULL`;

// Rows past their expiry are treated as absent (nothing sweeps them; the
// benchmark server truncates the table at start instead).
const SELECT = `
SELECT payload, extract(epoch FROM consumed_at)::bigint AS consumed
FROM ${TABLE}
WHERE type = $1 AND %COLUMN% = $2 AND (expires_at IS NULL OR expires_at > now())
LIMIT 1`;
const FIND = SELECT.replace('%COLUMN%', 'id');
const FIND_BY_UID = SELECT.replace('%COLUMN%', 'uid');
const FIND_BY_USER_CODE = SELECT.replace('%COLUMN%', 'user_code');

export default class PostgresAdapter {
  /** @type {pg.Pool | undefined} shared by every model's adapter instance */
  static pool;

  /**
   * Open the shared pool and create the table if it is missing.
   * @param {string} connectionString e.g. postgres://postgres@127.0.0.1:5432/peer_bench
   * @param {{ max?: number, reset?: boolean }} options reset: empty the table
   */
  static async connect(connectionString, { max = 10, reset = false } = {}) {
    PostgresAdapter.pool = new pg.Pool({ connectionString, max });
    await PostgresAdapter.pool.query(SCHEMA);
    if (reset) await PostgresAdapter.pool.query(`TRUNCATE ${TABLE}`);
  }

  static async disconnect() {
    await PostgresAdapter.pool?.end();
    PostgresAdapter.pool = undefined;
  }

  /** @param {string} name model name, e.g. "ClientCredentials", "Session" */
  constructor(name) {
    this.name = name;
  }

  get #pool() {
    if (!PostgresAdapter.pool) throw new Error('PostgresAdapter.connect() was not called');
    return PostgresAdapter.pool;
  }

  async #one(sql, value) {
    const { rows: [row] } = await this.#pool.query(sql, [this.name, value]);
    if (!row) return undefined;
    // consume() is recorded in its own column; hand it back inside the payload
    // as epoch seconds, where the provider's models look for it.
    return row.consumed === null ? row.payload : { ...row.payload, consumed: Number(row.consumed) };
  }

  /**
   * Insert or replace a record. expiresIn is in seconds (undefined: no expiry).
   * grantId, userCode and uid are copied to indexed columns for the lookups below.
   */
  async upsert(id, payload, expiresIn) {
    await this.#pool.query(UPSERT, [
      id,
      this.name,
      JSON.stringify(payload),
      GRANTABLE.has(this.name) ? payload.grantId ?? null : null,
      payload.userCode ?? null,
      payload.uid ?? null,
      typeof expiresIn === 'number' ? Math.ceil(expiresIn) : null,
    ]);
  }

  /** The stored payload, or undefined when missing or expired. */
  async find(id) {
    return this.#one(FIND, id);
  }

  /** Sessions are also looked up by their uid. */
  async findByUid(uid) {
    return this.#one(FIND_BY_UID, uid);
  }

  /** Device codes are also looked up by their user code. */
  async findByUserCode(userCode) {
    return this.#one(FIND_BY_USER_CODE, userCode);
  }

  /** Mark a one-time record (code, device code, ...) as used. */
  async consume(id) {
    await this.#pool.query(
      `UPDATE ${TABLE} SET consumed_at = now() WHERE id = $1 AND type = $2`,
      [id, this.name],
    );
  }

  async destroy(id) {
    await this.#pool.query(`DELETE FROM ${TABLE} WHERE id = $1 AND type = $2`, [id, this.name]);
  }

  /**
   * Drop every record issued under a grant. The provider calls this once per
   * token model; deleting across all models makes each call complete on its
   * own and the repeats harmless.
   */
  async revokeByGrantId(grantId) {
    await this.#pool.query(`DELETE FROM ${TABLE} WHERE grant_id = $1`, [grantId]);
  }
}
