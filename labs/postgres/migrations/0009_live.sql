-- The live streams of runs, relayed from the process that grades a run to
-- the web nodes whose viewers watch it (labs.LiveRelay). A row is one
-- encoded message of one try's stream. Rows are kept an hour at most: a
-- finished run is shown from its recording.

CREATE TABLE run_live (
	run_id  text COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	attempt integer NOT NULL,
	seq     integer NOT NULL,
	data    bytea NOT NULL,
	at      bigint NOT NULL, -- unix nanoseconds, when it was stored
	PRIMARY KEY (run_id, attempt, seq)
);

CREATE INDEX run_live_at ON run_live (at);
