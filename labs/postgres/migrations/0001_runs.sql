-- Runs, their outcomes and their traces.
-- Times are unix nanoseconds, UTC, NULL when not yet: timestamptz keeps
-- only microseconds, and a run's times keep their nanoseconds.
-- Keys and names sort by bytes (COLLATE "C"), as in SQLite, whatever the
-- database's locale.
-- The code is bytea: a handler's source may hold a NUL, which text cannot.

CREATE TABLE runs (
	id        text COLLATE "C" PRIMARY KEY,
	exercise  text COLLATE "C" NOT NULL,
	mode      text NOT NULL CHECK (mode IN ('run', 'submit')),
	client    text COLLATE "C" NOT NULL,
	code      bytea NOT NULL,
	backends  text[] NOT NULL DEFAULT '{}',
	scenarios text[] NOT NULL DEFAULT '{}',
	status    text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'interrupted')),
	verdict   text NOT NULL DEFAULT '',
	reason    text NOT NULL DEFAULT '',
	score     bigint NOT NULL DEFAULT 0,
	max_score bigint NOT NULL DEFAULT 0,
	result    bytea,
	created   bigint NOT NULL,
	started   bigint,
	finished  bigint
);

-- A client's runs of one exercise, newest first; best scores.
CREATE INDEX runs_client_exercise_created ON runs (client, exercise, created);
-- Unfinished runs, oldest first.
CREATE INDEX runs_status_created ON runs (status, created);

CREATE TABLE traces (
	run_id text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	track  text COLLATE "C" NOT NULL,
	data   bytea NOT NULL,
	PRIMARY KEY (run_id, track)
);
