-- Runs, their outcomes and their traces.
-- Times are unix nanoseconds, UTC; NULL when not yet.
-- Lists are JSON arrays of strings.

CREATE TABLE runs (
	id        TEXT PRIMARY KEY,
	exercise  TEXT NOT NULL,
	mode      TEXT NOT NULL CHECK (mode IN ('run', 'submit')),
	client    TEXT NOT NULL,
	code      TEXT NOT NULL,
	backends  TEXT NOT NULL DEFAULT '[]',
	scenarios TEXT NOT NULL DEFAULT '[]',
	status    TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'interrupted')),
	verdict   TEXT NOT NULL DEFAULT '',
	reason    TEXT NOT NULL DEFAULT '',
	score     INTEGER NOT NULL DEFAULT 0,
	max_score INTEGER NOT NULL DEFAULT 0,
	result    BLOB,
	created   INTEGER NOT NULL,
	started   INTEGER,
	finished  INTEGER
) STRICT;

-- A client's runs of one exercise, newest first; best scores.
CREATE INDEX runs_client_exercise_created ON runs (client, exercise, created);
-- Unfinished runs, oldest first.
CREATE INDEX runs_status_created ON runs (status, created);

CREATE TABLE traces (
	run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	track  TEXT NOT NULL,
	data   BLOB NOT NULL,
	PRIMARY KEY (run_id, track)
) STRICT;
