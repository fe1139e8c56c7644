-- Regrades: staff grading submissions again after an exercise changed.
-- A regrade's run is a submission that names the one it grades again.

ALTER TABLE runs ADD COLUMN regrades TEXT NOT NULL DEFAULT '';

-- One regrade and its items. items and before are JSON: the submissions
-- it grades again, and each student's assignment total before it began.
CREATE TABLE regrades (
	id            TEXT PRIMARY KEY,
	assignment_id TEXT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
	scope         TEXT NOT NULL,
	by_user       TEXT NOT NULL,
	at            INTEGER NOT NULL,
	items         TEXT NOT NULL,
	before        TEXT NOT NULL
) STRICT;

CREATE INDEX regrades_assignment ON regrades (assignment_id, at);
