/** The cache contracts of the example services: which key holds which rows (see docs/contracts.md). */
import { defineCache } from '../src';

/** `user:<id>` holds the user row as JSON; a lease token is "no data yet"; the JSON `null` is "no such user". */
export const userById = defineCache({
  key: 'user:{id}',
  load: (db, { id }) => db.query('SELECT id, name, email FROM users WHERE id = $1', [Number(id)]),
  skip: 'lease:',
  notFound: 'null',
});

/** The versioned services cache the version column too. */
export const versionedUserById = defineCache({
  key: 'user:{id}',
  load: (db, { id }) => db.query('SELECT id, name, email, version FROM users WHERE id = $1', [Number(id)]),
});

/** `users:active` holds the ids of the active users, in id order, as a JSON array. */
export const activeUserIds = defineCache({
  key: 'users:active',
  load: (db) => db.query('SELECT id FROM users WHERE active ORDER BY id'),
  expected: (rows) => rows.map((r) => r.id),
  skip: 'lease:',
});

/** docs/races.md #11: two keys for one row. */
export const userByIdKey = defineCache({
  key: 'user:id:{id}',
  load: (db, { id }) => db.query('SELECT id, name, email FROM users WHERE id = $1', [Number(id)]),
});
export const userByEmail = defineCache({
  key: 'user:email:{email}',
  load: (db, { email }) => db.query('SELECT id, name, email FROM users WHERE email = $1', [email]),
});
