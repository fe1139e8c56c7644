-- People, their sessions, one-time sign-in links and the instance's
-- settings. Times are unix nanoseconds, UTC; NULL when not yet.

CREATE TABLE users (
	id       TEXT PRIMARY KEY,
	email    TEXT NOT NULL UNIQUE,
	name     TEXT NOT NULL,
	role     TEXT NOT NULL CHECK (role IN ('instructor', 'student')),
	password TEXT NOT NULL DEFAULT '',
	created  INTEGER NOT NULL
) STRICT;

-- id is a hash of the browser's token, never the token.
CREATE TABLE sessions (
	id      TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);

-- id is a hash of the link's token; user_id is NULL for a setup link.
CREATE TABLE links (
	id      TEXT PRIMARY KEY,
	purpose TEXT NOT NULL CHECK (purpose IN ('setup', 'password')),
	user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL,
	used    INTEGER,
	CHECK ((purpose = 'setup') = (user_id IS NULL))
) STRICT;

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;
