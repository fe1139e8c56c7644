package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// worker works grade jobs for q.
type worker[TTx any] struct {
	river.WorkerDefaults[gradeArgs]
	q *Queue[TTx]
}

// Work grades the run (or, on the try past the last, gives it up), then
// completes the job and lets the student's next submission into line, in
// one transaction: a process that dies in between leaves the job running,
// to be worked again, and Work finds the run finished.
func (w *worker[TTx]) Work(ctx context.Context, j *river.Job[gradeArgs]) error {
	q := w.q
	job := Job{Run: j.Args.Run, Student: j.Args.Student, Lane: Lane(j.Queue), Attempt: j.Attempt}
	var err error
	if j.Attempt > q.cfg.MaxAttempts {
		reason := giveUpReason(j.JobRow, q.cfg.MaxAttempts)
		q.cfg.Logger.Warn("queue: giving up a run", "run", job.Run, "attempts", q.cfg.MaxAttempts, "reason", reason)
		err = q.cfg.GiveUp(ctx, job, reason)
	} else {
		err = q.cfg.Work(ctx, job)
	}
	if err != nil {
		return err
	}
	tag, err := studentTag(job.Student)
	if err != nil {
		return err
	}
	return q.inTx(ctx, func(tx TTx) error {
		if _, err := river.JobCompleteTx[riverdriver.Driver[TTx]](ctx, tx, j); err != nil {
			return fmt.Errorf("queue: complete %s: %w", job.Run, err)
		}
		if job.Lane != Submission {
			return nil
		}
		return q.promote(ctx, tx, tag, j.ID)
	})
}

// giveUpReason says why a run's tries did not finish, from the errors
// River kept: the last one, or that the grader died (a rescued job has
// an error of River's own).
func giveUpReason(j *rivertype.JobRow, tries int) string {
	if len(j.Errors) == 0 {
		return fmt.Sprintf("the grader stopped %d times while grading this run", tries)
	}
	last := j.Errors[len(j.Errors)-1]
	if last.Error == "" || strings.HasPrefix(last.Error, "Stuck job rescued") || strings.HasPrefix(last.Error, stoppedError) {
		return fmt.Sprintf("the grader stopped %d times while grading this run (its process died or hung)", tries)
	}
	return fmt.Sprintf("grading failed %d times; the last time: %s", tries, last.Error)
}

func unmarshalArgs(j *rivertype.JobRow, a *gradeArgs) error {
	if err := json.Unmarshal(j.EncodedArgs, a); err != nil {
		return fmt.Errorf("queue: job %d: args: %w", j.ID, err)
	}
	return nil
}
