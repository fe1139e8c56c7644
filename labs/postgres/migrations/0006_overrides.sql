-- Overrides of a student's points on one exercise of an assignment, and
-- the audit log of changes to grades, as in labs/sqlite. Times are unix
-- nanoseconds, UTC.

CREATE TABLE overrides (
	assignment_id text COLLATE "C" NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
	user_id       text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	exercise      text COLLATE "C" NOT NULL,
	points        double precision NOT NULL,
	comment       text NOT NULL,
	by_user       text COLLATE "C" NOT NULL,
	at            bigint NOT NULL,
	PRIMARY KEY (assignment_id, user_id, exercise)
);

-- Kept for good: no foreign keys, so that deleting a course or a person
-- keeps the record of what was done.
CREATE TABLE audit (
	seq     bigserial PRIMARY KEY,
	at      bigint NOT NULL,
	by_user text COLLATE "C" NOT NULL,
	subject text COLLATE "C" NOT NULL,
	action  text NOT NULL,
	detail  text NOT NULL
);

CREATE INDEX audit_subject ON audit (subject, seq);
