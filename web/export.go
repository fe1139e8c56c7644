package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/labs"
)

// wholeRun is the export file name, without .json, of every track of a
// run in one document. No track is called that: a track is
// "scenario-backend".
const wholeRun = "run"

// serveExport sends one track of a recorded run, or all of them
// (run.json), as Chrome Trace Event JSON, which Perfetto and
// chrome://tracing open.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request) error {
	run, err := s.storedRun(r, chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	track, ok := strings.CutSuffix(chi.URLParam(r, "file"), ".json")
	if !ok {
		return errorf(KindNotFound, "Runs are exported as .json.")
	}
	if track == wholeRun {
		return s.exportRun(w, r, run)
	}
	data, err := s.cfg.Store.Trace(r.Context(), run.ID, track)
	if errors.Is(err, labs.ErrNotFound) {
		return errorf(KindNotFound, "Run %s has no track %q.", run.ID, track)
	}
	if err != nil {
		return fmt.Errorf("export %s/%s: %w", run.ID, track, err)
	}
	release, err := s.heavyTurn(r.Context())
	if err != nil {
		return err
	}
	defer release()
	// The recording came from the sandbox: decode it as strictly as the
	// grader did, and export what was well formed.
	t, err := trace.DecodePartial(bytes.NewReader(data), trace.DefaultLimits(), nil)
	if err != nil && len(t.Events) == 0 {
		return fmt.Errorf("export %s/%s: the recorded trace cannot be read: %w", run.ID, track, err)
	}
	data = nil
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", run.Exercise+"-"+run.ID+"-"+track+".json"))
	// Streamed: a failure midway can only cut the response short.
	if err := trace.WriteChrome(w, t); err != nil {
		s.log.Warn("export cut short", "run", run.ID, "track", track, "err", err)
	}
	return nil
}

// exportRun sends every track of run as one Chrome Trace Event document,
// a track at a time: each is read, decoded, written and dropped before
// the next.
func (s *Server) exportRun(w http.ResponseWriter, r *http.Request, run *labs.Run) error {
	var res grading.Result
	if len(run.Result) == 0 || json.Unmarshal(run.Result, &res) != nil || len(res.Runs) == 0 {
		return errorf(KindNotFound, "Run %s has no recorded tracks yet.", run.ID)
	}
	release, err := s.heavyTurn(r.Context())
	if err != nil {
		return err
	}
	defer release()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", run.Exercise+"-"+run.ID+".json"))
	d := trace.NewChromeDoc(w)
	for _, sum := range res.Runs {
		data, err := s.cfg.Store.Trace(r.Context(), run.ID, sum.Track)
		if errors.Is(err, labs.ErrNotFound) {
			continue // a run that left no trace
		}
		if err != nil {
			s.log.Warn("export cut short", "run", run.ID, "track", sum.Track, "err", err)
			break
		}
		t, _ := trace.DecodePartial(bytes.NewReader(data), trace.DefaultLimits(), nil)
		d.Track(sum.Scenario+" on "+sum.Backend.Name(), t)
	}
	if err := d.Close(); err != nil {
		s.log.Warn("export cut short", "run", run.ID, "err", err)
	}
	return nil
}

// heavyTurn waits for one of the few turns at decoding and encoding a big
// trace, which takes memory, and returns how to give it back.
func (s *Server) heavyTurn(ctx context.Context) (release func(), err error) {
	select {
	case s.heavy <- struct{}{}:
		return func() { <-s.heavy }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
