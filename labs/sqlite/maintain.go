package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/asynclab/asynclab/labs"
)

var (
	_ labs.RunPruner = (*Store)(nil)
	_ labs.Backuper  = (*Store)(nil)
)

// walTruncateBytes is the size of the write-ahead log past which a write
// is followed by a checkpoint that truncates it. SQLite's own
// checkpoints copy the log into the database but leave the file as large
// as the largest transaction ever made it, and one run's traces can be
// hundreds of megabytes.
const walTruncateBytes = 4 << 20

// pruneBatch is how many runs one prune transaction deletes, so that the
// server's writes wait for a short transaction at most.
const pruneBatch = 64

// PruneRuns deletes every finished practice run created before before,
// with its traces, a batch at a time. Then it gives the freed pages back
// to the filesystem, where the file allows it, and truncates the WAL.
func (s *Store) PruneRuns(ctx context.Context, before time.Time) (labs.Pruned, error) {
	var total labs.Pruned
	if before.IsZero() {
		return total, fmt.Errorf("sqlite: prune runs: %w: zero time", labs.ErrInvalid)
	}
	for {
		n, err := s.pruneBatch(ctx, before)
		total.Runs += n.Runs
		total.Traces += n.Traces
		total.Bytes += n.Bytes
		if err != nil {
			return total, fmt.Errorf("sqlite: prune runs created before %s: %w", before.UTC().Format(time.RFC3339), err)
		}
		if n.Runs < pruneBatch {
			break
		}
	}
	if total.Runs == 0 {
		return total, nil
	}
	if err := s.Compact(ctx); err != nil {
		return total, fmt.Errorf("sqlite: prune runs: %w", err)
	}
	return total, nil
}

func (s *Store) pruneBatch(ctx context.Context, before time.Time) (labs.Pruned, error) {
	var n labs.Pruned
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM runs
			WHERE status IN ('done', 'interrupted') AND created < ? AND mode = 'run'
			ORDER BY created LIMIT ?`, before.UnixNano(), pruneBatch)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		list, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		const in = "(SELECT value FROM json_each(?))"
		var runBytes, traceBytes int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(length(CAST(code AS BLOB)) + coalesce(length(result), 0)), 0)
			FROM runs WHERE id IN `+in, list).Scan(&n.Runs, &runBytes); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(length(data)), 0)
			FROM traces WHERE run_id IN `+in, list).Scan(&n.Traces, &traceBytes); err != nil {
			return err
		}
		n.Bytes = runBytes + traceBytes
		// The traces go first, whatever foreign_keys says.
		if _, err := tx.ExecContext(ctx, "DELETE FROM traces WHERE run_id IN "+in, list); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM runs WHERE id IN "+in, list)
		return err
	})
	if err != nil {
		return labs.Pruned{}, err
	}
	return n, nil
}

// Compact gives the database's free pages back to the filesystem, where
// the file was made with incremental auto-vacuum (every file this package
// creates is), then checkpoints the WAL and truncates it to nothing.
func (s *Store) Compact(ctx context.Context) error {
	// Without incremental auto-vacuum this does nothing: the free pages stay
	// in the file for later writes.
	if _, err := s.write.ExecContext(ctx, "PRAGMA incremental_vacuum"); err != nil {
		return fmt.Errorf("incremental vacuum: %w", err)
	}
	return s.Checkpoint(ctx)
}

// Checkpoint copies the whole WAL into the database and truncates it to
// zero bytes (PRAGMA wal_checkpoint(TRUNCATE)). It waits, as long as
// busy_timeout allows, for readers of older snapshots, and fails if some
// still read one then.
func (s *Store) Checkpoint(ctx context.Context) error {
	var busy, logPages, done int
	err := s.write.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &done)
	if err != nil {
		return fmt.Errorf("wal checkpoint: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("wal checkpoint: readers kept it from finishing (%d of %d pages copied)", done, logPages)
	}
	return nil
}

// afterWrite truncates the WAL once a write has made it large. A failure
// is not the write's: the next large write or prune tries again.
func (s *Store) afterWrite(ctx context.Context) {
	if wal, err := fileSize(s.path + "-wal"); err == nil && wal > walTruncateBytes {
		s.Checkpoint(ctx)
	}
}

// Usage is the space a store's files take on disk.
type Usage struct {
	DB, WAL int64 // bytes of the database file and of its write-ahead log
}

// Usage returns the sizes of the database file and its WAL.
func (s *Store) Usage() (Usage, error) {
	db, err := fileSize(s.path)
	if err != nil {
		return Usage{}, fmt.Errorf("sqlite: usage: %w", err)
	}
	wal, err := fileSize(s.path + "-wal")
	if err != nil {
		return Usage{}, fmt.Errorf("sqlite: usage: %w", err)
	}
	return Usage{DB: db, WAL: wal}, nil
}

// fileSize returns the size of the file at path, 0 when there is none.
func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Backup writes a consistent, compacted copy of the database to path with
// VACUUM INTO, while the store stays in use: it is one read transaction,
// so writers go on meanwhile. The copy is written beside path and linked
// there only once it is complete and synced, so path never holds half a
// backup; it fails with an error wrapping [os.ErrExist] if path exists.
func (s *Store) Backup(ctx context.Context, path string) error {
	if err := s.backup(ctx, path); err != nil {
		return fmt.Errorf("sqlite: back up %s to %s: %w", s.path, path, err)
	}
	return nil
}

func (s *Store) backup(ctx context.Context, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(abs); err == nil {
		return fmt.Errorf("%w: %s", os.ErrExist, abs)
	}
	var suffix [8]byte
	rand.Read(suffix[:])
	tmp := abs + ".tmp-" + hex.EncodeToString(suffix[:])
	defer os.Remove(tmp)

	// A connection of its own: the read pool is query_only, which refuses
	// VACUUM INTO, and the write pool's one connection would hold back
	// every writer for as long as the copy takes.
	db, err := sql.Open("sqlite", s.dsn())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return err
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	// A link, not a rename, so that a file made at path meanwhile is not
	// replaced.
	if err := os.Link(tmp, abs); err != nil {
		return err
	}
	return syncFile(filepath.Dir(abs))
}

// syncFile flushes the file or directory at path to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// dsn is the name every connection to the file opens: a "file:" URI, so
// that SQLite decodes the escaped path and a '?' or '#' in it is not taken
// for the query.
func (s *Store) dsn() string {
	return "file:" + (&url.URL{Path: s.path}).EscapedPath() + "?" + pragmas
}
