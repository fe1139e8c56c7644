-- People, their sessions, one-time sign-in links and the instance's
-- settings, as in labs/sqlite. Times are unix nanoseconds, UTC; NULL when
-- not yet.

CREATE TABLE users (
	id       text COLLATE "C" PRIMARY KEY,
	email    text COLLATE "C" NOT NULL UNIQUE,
	name     text COLLATE "C" NOT NULL,
	role     text NOT NULL CHECK (role IN ('instructor', 'student')),
	password text NOT NULL DEFAULT '',
	created  bigint NOT NULL
);

-- id is a hash of the browser's token, never the token.
CREATE TABLE sessions (
	id      text COLLATE "C" PRIMARY KEY,
	user_id text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created bigint NOT NULL,
	expires bigint NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);

-- id is a hash of the link's token; user_id is NULL for a setup link.
CREATE TABLE links (
	id      text COLLATE "C" PRIMARY KEY,
	purpose text NOT NULL CHECK (purpose IN ('setup', 'password')),
	user_id text COLLATE "C" REFERENCES users (id) ON DELETE CASCADE,
	created bigint NOT NULL,
	expires bigint NOT NULL,
	used    bigint,
	CHECK ((purpose = 'setup') = (user_id IS NULL))
);

CREATE TABLE settings (
	key   text COLLATE "C" PRIMARY KEY,
	value text NOT NULL
);
