package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/labs"
)

// serveExport sends one track of a recorded run as Chrome Trace Event
// JSON, which Perfetto and chrome://tracing open.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request) error {
	run, err := s.storedRun(r, chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	track, ok := strings.CutSuffix(chi.URLParam(r, "file"), ".json")
	if !ok {
		return errorf(KindNotFound, "Runs are exported as .json.")
	}
	data, err := s.cfg.Store.Trace(r.Context(), run.ID, track)
	if errors.Is(err, labs.ErrNotFound) {
		return errorf(KindNotFound, "Run %s has no track %q.", run.ID, track)
	}
	if err != nil {
		return fmt.Errorf("export %s/%s: %w", run.ID, track, err)
	}
	// Decoding and encoding a big trace takes memory: a few at a time.
	select {
	case s.heavy <- struct{}{}:
		defer func() { <-s.heavy }()
	case <-r.Context().Done():
		return r.Context().Err()
	}
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
