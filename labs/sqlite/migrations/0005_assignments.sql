-- Assignments, their extensions, and the assignment a submission is for.
-- Times are unix nanoseconds, UTC; items and late windows are JSON arrays.

CREATE TABLE assignments (
	id              TEXT PRIMARY KEY,
	course_id       TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
	title           TEXT NOT NULL,
	items           TEXT NOT NULL,
	opens           INTEGER NOT NULL,
	due             INTEGER NOT NULL,
	late            TEXT NOT NULL DEFAULT '[]',
	scoring         TEXT NOT NULL CHECK (scoring IN ('best', 'last')),
	max_submissions INTEGER NOT NULL DEFAULT 0,
	created         INTEGER NOT NULL
) STRICT;

CREATE INDEX assignments_course_due ON assignments (course_id, due);

CREATE TABLE extensions (
	assignment_id TEXT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
	user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	due           INTEGER NOT NULL,
	PRIMARY KEY (assignment_id, user_id)
) STRICT;

ALTER TABLE runs ADD COLUMN assignment TEXT NOT NULL DEFAULT '';

-- An assignment's submissions, a person's first.
CREATE INDEX runs_assignment_client_created ON runs (assignment, client, created);
