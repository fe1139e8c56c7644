-- Assignments, their extensions, and the assignment a submission is for,
-- as in labs/sqlite. Times are unix nanoseconds, UTC; items and late
-- windows are JSON.

CREATE TABLE assignments (
	id              text COLLATE "C" PRIMARY KEY,
	course_id       text COLLATE "C" NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
	title           text NOT NULL,
	items           jsonb NOT NULL,
	opens           bigint NOT NULL,
	due             bigint NOT NULL,
	late            jsonb NOT NULL DEFAULT '[]',
	scoring         text NOT NULL CHECK (scoring IN ('best', 'last')),
	max_submissions bigint NOT NULL DEFAULT 0,
	created         bigint NOT NULL
);

CREATE INDEX assignments_course_due ON assignments (course_id, due);

CREATE TABLE extensions (
	assignment_id text COLLATE "C" NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
	user_id       text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	due           bigint NOT NULL,
	PRIMARY KEY (assignment_id, user_id)
);

ALTER TABLE runs ADD COLUMN assignment text COLLATE "C" NOT NULL DEFAULT '';

-- An assignment's submissions, a person's first.
CREATE INDEX runs_assignment_client_created ON runs (assignment, client, created);
