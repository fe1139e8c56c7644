-- Regrades: staff grading submissions again after an exercise changed, as
-- in labs/sqlite. A regrade's run is a submission that names the one it
-- grades again. Times are unix nanoseconds, UTC.

ALTER TABLE runs ADD COLUMN regrades text COLLATE "C" NOT NULL DEFAULT '';

-- One regrade and its items. items and before are JSON: the submissions
-- it grades again, and each student's assignment total before it began.
CREATE TABLE regrades (
	id            text COLLATE "C" PRIMARY KEY,
	assignment_id text COLLATE "C" NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
	scope         text NOT NULL,
	by_user       text COLLATE "C" NOT NULL,
	at            bigint NOT NULL,
	items         text NOT NULL,
	before        text NOT NULL
);

CREATE INDEX regrades_assignment ON regrades (assignment_id, at);
