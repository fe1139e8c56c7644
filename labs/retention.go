package labs

import (
	"context"
	"log/slog"
	"time"
)

// Pruned is what a prune deleted.
type Pruned struct {
	Runs   int   // runs deleted
	Traces int   // their traces, deleted with them
	Bytes  int64 // the bytes of their code, results and traces
}

// RunPruner is a store that deletes practice runs it no longer needs to
// keep. It is safe for concurrent use, with the store's other methods too.
type RunPruner interface {
	// PruneRuns deletes every finished practice run (ModeRun, done or
	// interrupted) created before before, with its traces, and reports what
	// it deleted. Submissions are kept, and so is every unfinished run.
	PruneRuns(ctx context.Context, before time.Time) (Pruned, error)
}

// Backuper is a store that can copy itself while in use.
type Backuper interface {
	// Backup writes a consistent copy of the whole store to path, a file
	// that must not exist yet, while the store stays in use. The file
	// appears only once complete.
	Backup(ctx context.Context, path string) error
}

// DefaultKeepPractice is how long `lab serve` keeps practice runs by
// default: a week, long enough to replay and compare this week's tries.
const DefaultKeepPractice = 7 * 24 * time.Hour

// Retention says how long practice runs are kept.
type Retention struct {
	// KeepPractice is the age past which a finished practice run is
	// pruned; 0 keeps every run.
	KeepPractice time.Duration
	// Every is how often to prune; 0 means every hour.
	Every time.Duration
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// Prune prunes p once: every finished practice run older than
// KeepPractice. With KeepPractice 0 it prunes nothing.
func (r Retention) Prune(ctx context.Context, p RunPruner) (Pruned, error) {
	if r.KeepPractice <= 0 {
		return Pruned{}, nil
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	return p.PruneRuns(ctx, now().Add(-r.KeepPractice))
}

// Run prunes p at once and then every r.Every until ctx ends. A failed
// prune is logged and tried again on the next round.
func (r Retention) Run(ctx context.Context, p RunPruner, log *slog.Logger) {
	if r.KeepPractice <= 0 {
		return
	}
	every := r.Every
	if every <= 0 {
		every = time.Hour
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		switch n, err := r.Prune(ctx, p); {
		case err != nil && ctx.Err() == nil:
			log.Error("pruning practice runs", "err", err)
		case n.Runs > 0:
			log.Info("pruned practice runs", "runs", n.Runs, "traces", n.Traces, "bytes", n.Bytes,
				"older_than", r.KeepPractice)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
