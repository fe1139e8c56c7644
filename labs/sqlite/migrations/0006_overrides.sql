-- Overrides of a student's points on one exercise of an assignment, and
-- the audit log of changes to grades. Times are unix nanoseconds, UTC.

CREATE TABLE overrides (
	assignment_id TEXT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
	user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	exercise      TEXT NOT NULL,
	points        REAL NOT NULL,
	comment       TEXT NOT NULL,
	by_user       TEXT NOT NULL,
	at            INTEGER NOT NULL,
	PRIMARY KEY (assignment_id, user_id, exercise)
) STRICT;

-- Kept for good: no foreign keys, so that deleting a course or a person
-- keeps the record of what was done.
CREATE TABLE audit (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	at      INTEGER NOT NULL,
	by_user TEXT NOT NULL,
	subject TEXT NOT NULL,
	action  TEXT NOT NULL,
	detail  TEXT NOT NULL
) STRICT;

CREATE INDEX audit_subject ON audit (subject, seq);
