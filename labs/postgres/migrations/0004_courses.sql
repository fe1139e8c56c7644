-- Courses and who is in them. Times are unix nanoseconds, UTC.

CREATE TABLE courses (
	id        text COLLATE "C" PRIMARY KEY,
	name      text COLLATE "C" NOT NULL,
	term      text COLLATE "C" NOT NULL,
	time_zone text COLLATE "C" NOT NULL,
	join_code text COLLATE "C" NOT NULL UNIQUE,
	created   bigint NOT NULL
);

CREATE TABLE members (
	course_id text COLLATE "C" NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
	user_id   text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role      text NOT NULL CHECK (role IN ('instructor', 'ta', 'student')),
	section   text COLLATE "C" NOT NULL DEFAULT '',
	joined    bigint NOT NULL,
	PRIMARY KEY (course_id, user_id)
);

-- A person's courses; whom a person teaches.
CREATE INDEX members_user ON members (user_id, role);
