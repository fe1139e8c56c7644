-- Courses and who is in them. Times are unix nanoseconds, UTC.

CREATE TABLE courses (
	id        TEXT PRIMARY KEY,
	name      TEXT NOT NULL,
	term      TEXT NOT NULL,
	time_zone TEXT NOT NULL,
	join_code TEXT NOT NULL UNIQUE,
	created   INTEGER NOT NULL
) STRICT;

CREATE TABLE members (
	course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
	user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role      TEXT NOT NULL CHECK (role IN ('instructor', 'ta', 'student')),
	section   TEXT NOT NULL DEFAULT '',
	joined    INTEGER NOT NULL,
	PRIMARY KEY (course_id, user_id)
) STRICT;

-- A person's courses; whom a person teaches.
CREATE INDEX members_user ON members (user_id, role);
