-- The predict step, as in labs/sqlite: the student's prediction, made
-- before the run, and the real answer the run gave, each as JSON ('' when
-- there is none).

ALTER TABLE runs ADD COLUMN prediction text NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN actual text NOT NULL DEFAULT '';
