-- What a student sees of a submission before the due time: every check,
-- or only whether it passed.
ALTER TABLE assignments ADD COLUMN feedback text NOT NULL DEFAULT 'all' CHECK (feedback IN ('all', 'pass-fail'));
