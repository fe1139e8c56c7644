-- A trace is stored in chunks of at most 64 KiB (chunkSize in run.go), as
-- in labs/sqlite, so that no row holds a whole trace of hundreds of
-- megabytes: traces keeps one row per track with its size, trace_chunks its
-- bytes in order.

CREATE TABLE trace_chunks (
	run_id text COLLATE "C" NOT NULL,
	track  text COLLATE "C" NOT NULL,
	seq    integer NOT NULL, -- 0, 1, 2, ...; a trace of 0 bytes has none
	data   bytea NOT NULL,
	PRIMARY KEY (run_id, track, seq),
	FOREIGN KEY (run_id, track) REFERENCES traces (run_id, track) ON DELETE CASCADE
);

ALTER TABLE traces ADD COLUMN size bigint NOT NULL DEFAULT 0;
UPDATE traces SET size = octet_length(data);

INSERT INTO trace_chunks (run_id, track, seq, data)
SELECT run_id, track, seq, substring(data FROM seq * 65536 + 1 FOR 65536)
FROM traces, generate_series(0, ((size - 1) / 65536)::integer) AS seq
WHERE size > 0;

ALTER TABLE traces DROP COLUMN data;
