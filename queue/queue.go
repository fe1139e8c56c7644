// Package queue is the lab's durable queue of runs waiting to be graded,
// on River (github.com/riverqueue/river). It knows runs only by id and
// student; what grading a run means is the Work function it is given.
//
// Two lanes: practice runs are interactive and never wait behind
// submissions, which have their own workers. Submissions are fair across
// students: a student has at most one submission in line or being graded;
// the next waits, pending, until that one is done, and then joins the back
// of the line. With one worker, three students who submit 5, 1 and 1 at
// once are graded A B C A A A A, not A A A A A B C.
//
// A job is worked at least once and, since Work skips a run that is
// already finished, graded once. A process that dies mid-grade leaves its
// job running; River's rescuer (or Reclaim, for a process that owns the
// whole queue) makes it available again. After MaxAttempts tries the run
// is handed to GiveUp with the reason instead of being tried forever.
//
// The queue lives in SQLite (OpenSQLite), owned by one process, or in
// PostgreSQL (OpenPostgres), shared by many web nodes and workers.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Lane is a line of runs with workers of its own.
type Lane string

const (
	// Practice is the lane of practice runs: interactive, first come
	// first served.
	Practice Lane = "practice"
	// Submission is the lane of graded submissions, fair across students.
	Submission Lane = "submission"
)

// Job is one run to grade.
type Job struct {
	Run     string
	Student string
	Lane    Lane
	// Attempt counts from 1; above 1, an earlier try did not finish.
	Attempt int
}

// Config says how a queue works its jobs.
type Config struct {
	// Work grades job.Run. It must be idempotent: return nil at once for a
	// run that is already finished (an earlier attempt may have finished
	// it and died before telling the queue). An error is retried shortly.
	Work func(ctx context.Context, job Job) error
	// GiveUp ends job.Run as interrupted, saying why, once MaxAttempts
	// tries have not finished it.
	GiveUp func(ctx context.Context, job Job, reason string) error
	// Workers is how many jobs of each lane this process works at once. A
	// lane with none is not worked here (a web node that only enqueues).
	Workers map[Lane]int
	// MaxAttempts is how many times a run is tried (default 3).
	MaxAttempts int
	// PollInterval is how often an idle worker looks for jobs when it is
	// not told of new ones (default 200 ms).
	PollInterval time.Duration
	// JobTimeout bounds one try (default 5 min).
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before River takes
	// its worker for dead and makes it available again (default
	// JobTimeout + 1 min).
	RescueAfter time.Duration
	Logger      *slog.Logger
}

// Queue is a durable queue over a River driver whose transactions are TTx
// (*sql.Tx for SQLite, pgx.Tx for PostgreSQL).
type Queue[TTx any] struct {
	cfg    Config
	driver riverdriver.Driver[TTx]
	client *river.Client[TTx]
}

// Migrate brings River's tables in the driver's database up to date.
func Migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("queue: migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("queue: migrate: %w", err)
	}
	return nil
}

// New makes a queue on driver's database, whose River tables Migrate has
// made. It works jobs only once started.
func New[TTx any](driver riverdriver.Driver[TTx], cfg Config) (*Queue[TTx], error) {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 200 * time.Millisecond
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = 5 * time.Minute
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = cfg.JobTimeout + time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	q := &Queue[TTx]{cfg: cfg, driver: driver}
	rc := &river.Config{
		FetchPollInterval: cfg.PollInterval,
		FetchCooldown:     min(cfg.PollInterval, river.FetchCooldownDefault),
		JobTimeout:        cfg.JobTimeout,
		// One try more than asked: the last one only gives up, so a run
		// whose tries all died still ends, with the reason.
		MaxAttempts:                 cfg.MaxAttempts + 1,
		RescueStuckJobsAfter:        cfg.RescueAfter,
		RetryPolicy:                 retrySoon{},
		CompletedJobRetentionPeriod: 24 * time.Hour,
		Logger:                      cfg.Logger.With("component", "river"),
	}
	if cfg.Work != nil {
		workers := river.NewWorkers()
		river.AddWorker(workers, &worker[TTx]{q: q})
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{}
		for lane, n := range cfg.Workers {
			if n > 0 {
				rc.Queues[string(lane)] = river.QueueConfig{MaxWorkers: n}
			}
		}
		if len(rc.Queues) == 0 {
			rc.Queues, rc.Workers = nil, nil
		}
	}
	c, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q.client = c
	return q, nil
}

// Start starts working jobs, after making any submission that waits
// behind a finished one available (a process may have died between the
// two).
func (q *Queue[TTx]) Start(ctx context.Context) error {
	if err := q.unblock(ctx); err != nil {
		return err
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("queue: start: %w", err)
	}
	return nil
}

// Stop stops taking jobs and waits for those in progress until ctx is
// done; then it cancels them (they stay running in the database, to be
// rescued or reclaimed).
func (q *Queue[TTx]) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = q.client.StopAndCancel(context.WithoutCancel(ctx))
	}
	if err != nil {
		return fmt.Errorf("queue: stop: %w", err)
	}
	return nil
}

// gradeArgs is a job's arguments, stored with it.
type gradeArgs struct {
	Run     string `json:"run"`
	Student string `json:"student"`
}

func (gradeArgs) Kind() string { return "grade" }

var tagSafe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,200}$`)

// studentTag names a student's jobs; tags are how the fair lane finds them.
func studentTag(student string) (string, error) {
	if !tagSafe.MatchString(student) {
		return "", fmt.Errorf("queue: student id %q: want 1 to 200 letters, digits, _ or -", student)
	}
	return tagPrefix + student, nil
}

const tagPrefix = "student_"

// lockStudent makes the transactions that read and change one student's
// submissions take turns, until tx ends. Enqueue decides from the student's
// jobs whether a new one waits, and promote whether the next one may go:
// run at once in two transactions, each could miss what the other writes,
// letting two in line or leaving one waiting forever. On PostgreSQL,
// where several processes share the queue, a transaction-scoped advisory
// lock on the student orders them; SQLite's write transactions are serial
// already.
func (q *Queue[TTx]) lockStudent(ctx context.Context, tx TTx, student string) error {
	if q.driver.DatabaseName() != riverdriver.DatabaseNamePostgres {
		return nil
	}
	if err := q.driver.UnwrapExecutor(tx).Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", student); err != nil {
		return fmt.Errorf("queue: lock student %s: %w", student, err)
	}
	return nil
}

// Enqueue puts job in its lane. Once it returns nil the job is durable:
// it will be worked whatever happens to this process. Enqueueing a run
// again is a no-op, so a caller that does not know whether an earlier
// call got through may simply call again.
func (q *Queue[TTx]) Enqueue(ctx context.Context, job Job) error {
	tag, err := studentTag(job.Student)
	if err != nil {
		return err
	}
	if job.Lane != Practice && job.Lane != Submission {
		return fmt.Errorf("queue: enqueue %s: no lane %q", job.Run, job.Lane)
	}
	return q.inTx(ctx, func(tx TTx) error {
		opts := &river.InsertOpts{
			Queue:      string(job.Lane),
			Tags:       []string{tag},
			UniqueOpts: river.UniqueOpts{ByArgs: true},
		}
		if job.Lane == Submission {
			if err := q.lockStudent(ctx, tx, job.Student); err != nil {
				return err
			}
			busy, err := q.studentJobs(ctx, tx, tag, activeStates...)
			if err != nil {
				return err
			}
			opts.Pending = len(busy) > 0
		}
		_, err := q.client.InsertTx(ctx, tx, gradeArgs{Run: job.Run, Student: job.Student}, opts)
		if err != nil {
			return fmt.Errorf("queue: enqueue %s: %w", job.Run, err)
		}
		return nil
	})
}

// activeStates are the states of a job that is in line or being worked.
var activeStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled}

// studentJobs lists a student's submissions in the given states, oldest
// first.
func (q *Queue[TTx]) studentJobs(ctx context.Context, tx TTx, tag string, states ...rivertype.JobState) ([]*rivertype.JobRow, error) {
	res, err := q.client.JobListTx(ctx, tx, river.NewJobListParams().
		Queues(string(Submission)).Kinds(gradeArgs{}.Kind()).TagsAll(tag).
		States(states...).OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(100))
	if err != nil {
		return nil, fmt.Errorf("queue: list %s: %w", tag, err)
	}
	return res.Jobs, nil
}

// promote makes the student's oldest pending submission available, unless
// one is already in line or running (other than except, a job finishing in
// this same transaction).
func (q *Queue[TTx]) promote(ctx context.Context, tx TTx, tag string, except int64) error {
	if err := q.lockStudent(ctx, tx, strings.TrimPrefix(tag, tagPrefix)); err != nil {
		return err
	}
	busy, err := q.studentJobs(ctx, tx, tag, activeStates...)
	if err != nil {
		return err
	}
	for _, j := range busy {
		if j.ID != except {
			return nil
		}
	}
	pending, err := q.studentJobs(ctx, tx, tag, rivertype.JobStatePending)
	if err != nil || len(pending) == 0 {
		return err
	}
	if _, err := q.client.JobRetryTx(ctx, tx, pending[0].ID); err != nil {
		return fmt.Errorf("queue: make job %d available: %w", pending[0].ID, err)
	}
	return nil
}

// unblock promotes, for every student with pending submissions, the oldest
// one if nothing of theirs is in line.
func (q *Queue[TTx]) unblock(ctx context.Context) error {
	return q.inTx(ctx, func(tx TTx) error {
		seen := map[string]bool{}
		params := river.NewJobListParams().Queues(string(Submission)).
			States(rivertype.JobStatePending).First(1000)
		for {
			res, err := q.client.JobListTx(ctx, tx, params)
			if err != nil {
				return fmt.Errorf("queue: list pending: %w", err)
			}
			for _, j := range res.Jobs {
				for _, tag := range j.Tags {
					if !seen[tag] {
						seen[tag] = true
						if err := q.promote(ctx, tx, tag, 0); err != nil {
							return err
						}
					}
				}
			}
			if len(res.Jobs) < 1000 {
				return nil
			}
			params = params.After(res.LastCursor)
		}
	})
}

// Place is where a run stands in its lane.
type Place struct {
	// Ahead is how many jobs of the lane will be started before it: 0
	// when it is next. Waiting says the run waits behind the student's
	// own earlier submission, so it is not in line yet.
	Ahead   int
	Waiting bool
	// Running says a worker has it; Done that it is finished.
	Running, Done bool
}

// Position says where run stands in lane. It reads outside a write
// transaction: pages ask often, and SQLite has one writer.
func (q *Queue[TTx]) Position(ctx context.Context, lane Lane, run string) (Place, error) {
	line, err := q.Line(ctx, lane)
	if err != nil {
		return Place{}, fmt.Errorf("queue: position of %s: %w", run, err)
	}
	p, ok := line[run]
	if !ok {
		return Place{Done: true}, nil
	}
	return p, nil
}

// Line returns the place of every run in lane that is not done, by run,
// from one read: what a server that shows many queued runs asks each
// second. A run missing from it is done (or was never enqueued).
func (q *Queue[TTx]) Line(ctx context.Context, lane Lane) (map[string]Place, error) {
	res, err := q.client.JobList(ctx, river.NewJobListParams().Queues(string(lane)).
		States(append(activeStates, rivertype.JobStatePending)...).
		OrderBy(river.JobListOrderByScheduledAt, river.SortOrderAsc).First(10000))
	if err != nil {
		return nil, fmt.Errorf("queue: list %s: %w", lane, err)
	}
	line := make(map[string]Place, len(res.Jobs))
	ahead := 0
	for _, j := range res.Jobs {
		var a gradeArgs
		if err := unmarshalArgs(j, &a); err != nil {
			return nil, err
		}
		switch j.State {
		case rivertype.JobStateRunning:
			line[a.Run] = Place{Running: true}
		case rivertype.JobStatePending:
			line[a.Run] = Place{Waiting: true}
		default:
			line[a.Run] = Place{Ahead: ahead}
		}
		if j.State == rivertype.JobStateAvailable || j.State == rivertype.JobStateRetryable {
			ahead++
		}
	}
	return line, nil
}

// inTx runs fn in a transaction of the queue's database.
func (q *Queue[TTx]) inTx(ctx context.Context, fn func(tx TTx) error) error {
	etx, err := q.driver.GetExecutor().Begin(ctx)
	if err != nil {
		return fmt.Errorf("queue: begin: %w", err)
	}
	if err := fn(q.driver.UnwrapTx(etx)); err != nil {
		etx.Rollback(ctx)
		return err
	}
	if err := etx.Commit(ctx); err != nil {
		return fmt.Errorf("queue: commit: %w", err)
	}
	return nil
}

// retrySoon retries a failed try after a second or two: a grade fails for
// a reason of the moment (a busy store), not one that waiting hours fixes.
type retrySoon struct{}

func (retrySoon) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(time.Duration(job.Attempt) * time.Second)
}

// stoppedError is the error a reclaimed try ends with.
const stoppedError = "the grader stopped while grading this run (its process died)"

// Reclaim makes every running job available again, as a job whose worker
// died. Only a process that owns the whole queue may call it, before
// Start: the SQLite store, which one server holds at a time, so a job
// running when it starts was left by a server that is gone. It returns how
// many jobs it reclaimed. On PostgreSQL, a shared database, it refuses:
// there a running job may be another live worker's, and River's rescuer
// makes a dead worker's jobs available again once they have run longer
// than RescueAfter.
func (q *Queue[TTx]) Reclaim(ctx context.Context) (int, error) {
	if q.driver.DatabaseName() != riverdriver.DatabaseNameSQLite {
		return 0, errors.New("queue: reclaim: only a queue on SQLite, which one process owns, may reclaim; on a shared database River's rescuer does it after RescueAfter")
	}
	res, err := q.client.JobList(ctx, river.NewJobListParams().
		States(rivertype.JobStateRunning).First(10000))
	if err != nil {
		return 0, fmt.Errorf("queue: reclaim: %w", err)
	}
	if len(res.Jobs) == 0 {
		return 0, nil
	}
	now := time.Now().UTC()
	p := &riverdriver.JobRescueManyParams{StuckHorizon: now.Add(time.Second)}
	for _, j := range res.Jobs {
		e, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: j.Attempt,
			Error: stoppedError})
		if err != nil {
			return 0, err
		}
		p.ID = append(p.ID, j.ID)
		p.Error = append(p.Error, e)
		p.FinalizedAt = append(p.FinalizedAt, nil)
		p.ScheduledAt = append(p.ScheduledAt, now)
		p.State = append(p.State, string(rivertype.JobStateAvailable))
	}
	if _, err := q.driver.GetExecutor().JobRescueMany(ctx, p); err != nil {
		return 0, fmt.Errorf("queue: reclaim: %w", err)
	}
	q.cfg.Logger.Info("queue: reclaimed runs a stopped server was grading", "jobs", len(res.Jobs))
	return len(res.Jobs), nil
}
