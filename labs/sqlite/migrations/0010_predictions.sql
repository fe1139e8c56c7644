-- The predict step: the student's prediction, made before the run, and the
-- real answer the run gave, each as JSON ('' when there is none).

ALTER TABLE runs ADD COLUMN prediction TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN actual TEXT NOT NULL DEFAULT '';
