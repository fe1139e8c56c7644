// Package web serves the lab: the catalogue, the exercise pages with their
// editor and live timeline, the JSON API that starts runs, the websocket
// that streams them, and the replay, compare and export of recorded runs.
// Handlers return errors; one function maps them to status codes, as pages
// or as JSON.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/yuin/goldmark"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/templates"
	"github.com/asynclab/asynclab/web/live"
)

// MaxCode is the largest submission the server reads, in bytes.
const MaxCode = 256 << 10

// Grader is what the server needs to grade and run submissions. It must be
// safe for concurrent use.
type Grader interface {
	Grade(ctx context.Context, sub grading.Submission) (*grading.Result, error)
	Run(ctx context.Context, sub grading.Submission) (*grading.Result, error)
}

var _ Grader = (*grading.Grader)(nil)

// Config configures a [Server].
type Config struct {
	Exercises []*exercises.Exercise
	// Store records every run, its result and its traces.
	Store labs.Store
	// Grader grades submissions; nil while it is still being prepared.
	Grader func() Grader
	// Ready reports why grading must be refused on this host (nil: it may
	// run). The lab never runs a submission unconfined.
	Ready  func() error
	Logger *slog.Logger
	// RunsPerMinute limits runs per browser; default 20. An address may
	// make ten times as many, since a class behind one NAT shares it.
	RunsPerMinute int
	// Live tunes the websocket connections.
	Live live.Options
}

// Server is the lab's HTTP handler.
type Server struct {
	cfg    Config
	log    *slog.Logger
	router chi.Router
	limit  *rateLimiter // runs per browser
	hosts  *rateLimiter // runs per address, looser: a class may share one
	runs   *runner
	heavy  chan struct{} // exports being built at once
}

// New returns a server. Call Close when done with it.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RunsPerMinute <= 0 {
		cfg.RunsPerMinute = 20
	}
	if cfg.Live.Logger == nil {
		cfg.Live.Logger = cfg.Logger
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("subsystem", "web"), limit: newRateLimiter(cfg.RunsPerMinute, time.Minute),
		hosts: newRateLimiter(10*cfg.RunsPerMinute, time.Minute), heavy: make(chan struct{}, 4)}
	s.runs = newRunner(cfg.Store, cfg.Exercises, s.log)
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Get("/", s.handle(s.serveCatalogue))
	r.Get("/exercises/{slug}", s.handle(s.serveExercise))
	r.With(s.requireCSRF).Post("/api/exercises/{slug}/runs", s.api(s.serveStartRun))
	r.With(s.requireCSRF).Post("/api/exercises/{slug}/reference", s.api(s.serveReference))
	r.Get("/runs/{id}", s.handle(s.serveReplay))
	r.Get("/runs/{id}/export/{file}", s.handle(s.serveExport))
	r.Get("/compare", s.handle(s.serveCompare))
	r.Get("/ws/runs/{id}", s.handle(s.serveLive))
	r.Handle("/static/*", staticHandler())
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	r.NotFound(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return errorf(KindNotFound, "There is no page at %s.", r.URL.Path)
	}))
	s.router = r
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Resume grades again, with g, the runs a stopped server left
// unfinished. Call it once g is ready and before Config.Grader returns it,
// so that no run started meanwhile is found unfinished too.
func (s *Server) Resume(ctx context.Context, g Grader) (int, error) {
	return s.runs.resume(ctx, g)
}

// Close stops the runs in progress, leaving them to be resumed by the next
// server, and waits for them.
func (s *Server) Close() { s.runs.close() }

// handle adapts a handler that returns an error: the error becomes a page
// with the right status, and internal errors are logged.
func (s *Server) handle(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		code, msg := s.status(r, err)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(code)
		templates.ErrorPage(code, msg, s.hostStatus()).Render(r.Context(), w)
	}
}

// api adapts a JSON handler: errors become {"error": message} with the
// same status as the pages give.
func (s *Server) api(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		code, msg := s.status(r, err)
		writeJSON(w, code, map[string]string{"error": msg})
	}
}

// status maps err to a status and message, logging internal errors.
func (s *Server) status(r *http.Request, err error) (int, string) {
	code, msg := status(err)
	if code >= 500 && code != http.StatusServiceUnavailable {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	return code, msg
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// grader returns the grader, or nil while it is still being prepared.
func (s *Server) grader() Grader {
	if s.cfg.Grader == nil {
		return nil
	}
	return s.cfg.Grader()
}

func (s *Server) hostStatus() templates.Status {
	if s.cfg.Ready == nil {
		return templates.Status{Ready: true}
	}
	if err := s.cfg.Ready(); err != nil {
		return templates.Status{Reason: err.Error()}
	}
	return templates.Status{Ready: true}
}

func render(w http.ResponseWriter, r *http.Request, c templ.Component) error {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err := buf.WriteTo(w)
	return err
}

func (s *Server) exercise(slug string) (*exercises.Exercise, error) {
	if ex := s.runs.exercises[slug]; ex != nil {
		return ex, nil
	}
	return nil, errorf(KindNotFound, "There is no exercise called %q.", slug)
}

func item(ex *exercises.Exercise) templates.ExerciseItem {
	it := templates.ExerciseItem{Slug: ex.Slug, Title: ex.Title, Topic: ex.Topic, Difficulty: ex.Difficulty, Points: ex.MaxScore()}
	for _, b := range ex.Backends {
		it.Backends = append(it.Backends, string(b))
	}
	return it
}

func (s *Server) serveCatalogue(w http.ResponseWriter, r *http.Request) error {
	best, err := s.cfg.Store.BestScores(r.Context(), clientID(w, r))
	if err != nil {
		return fmt.Errorf("catalogue: %w", err)
	}
	var items []templates.ExerciseItem
	for _, ex := range s.cfg.Exercises {
		it := item(ex)
		if b, ok := best[ex.Slug]; ok {
			it.Best = fmt.Sprintf("%d/%d", b.Score, b.Max)
			it.BestRun = b.RunID
		}
		items = append(items, it)
	}
	return render(w, r, templates.Catalogue(items, s.hostStatus()))
}

func (s *Server) serveExercise(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.exercise(chi.URLParam(r, "slug"))
	if err != nil {
		return err
	}
	var html bytes.Buffer
	if err := goldmark.Convert([]byte(ex.Instructions), &html); err != nil {
		return fmt.Errorf("render instructions of %s: %w", ex.Slug, err)
	}
	v := templates.ExerciseView{ExerciseItem: item(ex), InstructionsHTML: html.String(), Predict: ex.Predict,
		Starter: string(ex.Starter), Signature: ex.Signature}
	for _, sc := range ex.Scenarios {
		v.Scenarios = append(v.Scenarios, templates.ScenarioItem{Name: sc.Name, Title: sc.Title})
	}
	client := clientID(w, r)
	recent, err := s.cfg.Store.ClientRuns(r.Context(), client, ex.Slug, 10)
	if err != nil {
		return fmt.Errorf("exercise %s: %w", ex.Slug, err)
	}
	v.Recent = runItems(recent)
	return render(w, r, templates.Exercise(v, s.hostStatus(), csrfToken(w, r)))
}

func runItems(runs []*labs.Run) []templates.RunItem {
	var out []templates.RunItem
	for _, run := range runs {
		out = append(out, templates.RunItem{ID: run.ID, Exercise: run.Exercise, Mode: string(run.Mode), Status: string(run.Status),
			Verdict: run.Verdict, Score: run.Score, Max: run.Max, Created: run.Created.UTC().Format("2006-01-02 15:04:05 UTC"),
			Backends: strings.Join(run.Backends, "+")})
	}
	return out
}

// startRequest is the body of POST /api/exercises/{slug}/runs.
type startRequest struct {
	Code     string   `json:"code"`
	Mode     string   `json:"mode"`     // "run" or "submit"
	Backends []string `json:"backends"` // empty: every backend of the exercise
	Scenario string   `json:"scenario"` // empty: every scenario
}

type startResponse struct {
	ID  string `json:"id"`
	URL string `json:"url"` // the run's replay page
	WS  string `json:"ws"`  // its websocket
}

// writeRun answers a request that started or found run id.
func writeRun(w http.ResponseWriter, code int, id string) {
	writeJSON(w, code, startResponse{ID: id, URL: "/runs/" + id, WS: "/ws/runs/" + id})
}

func (s *Server) serveStartRun(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.exercise(chi.URLParam(r, "slug"))
	if err != nil {
		return err
	}
	var req startRequest
	if err := readJSON(w, r, MaxCode+4096, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Code) == "" {
		return errorf(KindInvalid, "The handler is empty.")
	}
	if len(req.Code) > MaxCode {
		return errorf(KindTooLarge, "The handler is larger than %d KiB.", MaxCode>>10)
	}
	mode := labs.RunMode(req.Mode)
	if !mode.Valid() {
		return errorf(KindInvalid, "The mode must be \"run\" or \"submit\", not %q.", req.Mode)
	}
	run := &labs.Run{ID: grading.NewID(time.Now()), Exercise: ex.Slug, Mode: mode, Client: clientID(w, r), Code: req.Code, Created: time.Now()}
	if mode == labs.ModeSubmit && (len(req.Backends) > 0 || req.Scenario != "") {
		return errorf(KindInvalid, "A submission is graded on every scenario and backend; choose them only for a run.")
	}
	for _, b := range req.Backends {
		if !slices.Contains(ex.Backends, engine.Kind(b)) {
			return errorf(KindInvalid, "This exercise runs on %v, not %q.", ex.Backends, b)
		}
		if !slices.Contains(run.Backends, b) {
			run.Backends = append(run.Backends, b)
		}
	}
	if req.Scenario != "" {
		if !slices.ContainsFunc(ex.Scenarios, func(sc exercises.Scenario) bool { return sc.Name == req.Scenario }) {
			return errorf(KindInvalid, "This exercise has no scenario %q.", req.Scenario)
		}
		run.Scenarios = []string{req.Scenario}
	}
	g, err := s.gate(r)
	if err != nil {
		return err
	}
	if err := s.runs.start(r.Context(), g, run); err != nil {
		return err
	}
	writeRun(w, http.StatusAccepted, run.ID)
	return nil
}

// gate refuses a run when the host cannot grade, the grader is not ready,
// or the client has run too much.
func (s *Server) gate(r *http.Request) (Grader, error) {
	if st := s.hostStatus(); !st.Ready {
		return nil, errorf(KindUnavailable, "Grading is off on this host: %s. Nothing was run.", st.Reason)
	}
	g := s.grader()
	if g == nil {
		return nil, errorf(KindUnavailable, "The grader is still warming up its build cache; try again in a few seconds.")
	}
	if !s.limit.allow(clientID(nil, r)) || !s.hosts.allow(clientKey(r)) {
		return nil, errorf(KindLimit, "Too many runs in the last minute; wait a moment and try again.")
	}
	return g, nil
}

// serveReference returns a run of the exercise's reference solution on
// every scenario and backend, starting one if none is recorded, for
// students to compare theirs with. Its code is never shown.
func (s *Server) serveReference(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.exercise(chi.URLParam(r, "slug"))
	if err != nil {
		return err
	}
	runs, err := s.cfg.Store.ClientRuns(r.Context(), referenceClient, ex.Slug, 5)
	if err != nil {
		return fmt.Errorf("reference of %s: %w", ex.Slug, err)
	}
	for _, run := range runs {
		if run.Status != labs.StatusInterrupted && run.Verdict != string(grading.InternalError) {
			writeRun(w, http.StatusOK, run.ID)
			return nil
		}
	}
	g, err := s.gate(r)
	if err != nil {
		return err
	}
	run := &labs.Run{ID: grading.NewID(time.Now()), Exercise: ex.Slug, Mode: labs.ModeRun, Client: referenceClient, Code: string(ex.Reference), Created: time.Now()}
	if err := s.runs.start(r.Context(), g, run); err != nil {
		return err
	}
	writeRun(w, http.StatusAccepted, run.ID)
	return nil
}

// readJSON decodes a request body of at most limit bytes into v.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return errorf(KindInvalid, "Send the request as application/json.")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(KindTooLarge, "The request is larger than %d KiB.", limit>>10)
		}
		return errorf(KindInvalid, "The request could not be read: %v.", err)
	}
	return nil
}

// storedRun returns the run named in the URL.
func (s *Server) storedRun(r *http.Request, id string) (*labs.Run, error) {
	if !grading.ValidID(id) {
		return nil, errorf(KindNotFound, "There is no run %q.", id)
	}
	run, err := s.cfg.Store.Run(r.Context(), id)
	if errors.Is(err, labs.ErrNotFound) {
		return nil, errorf(KindNotFound, "There is no run %q.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", id, err)
	}
	return run, nil
}

func (s *Server) runView(run *labs.Run) templates.RunPageView {
	v := templates.RunPageView{RunItem: runItems([]*labs.Run{run})[0], Code: run.Code, Reference: run.Client == referenceClient}
	if v.Reference {
		v.Code = ""
	}
	if ex := s.runs.exercises[run.Exercise]; ex != nil {
		v.Title = ex.Title
	}
	return v
}

// serveReplay is a recorded run's page: its code, its timeline and its
// result, replayed from the store (or live, while it runs).
func (s *Server) serveReplay(w http.ResponseWriter, r *http.Request) error {
	run, err := s.storedRun(r, chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	v := s.runView(run)
	others, err := s.cfg.Store.ClientRuns(r.Context(), clientID(w, r), run.Exercise, 20)
	if err != nil {
		return fmt.Errorf("replay %s: %w", run.ID, err)
	}
	for _, o := range runItems(others) {
		if o.ID != run.ID {
			v.Others = append(v.Others, o)
		}
	}
	return render(w, r, templates.Replay(v, s.hostStatus(), csrfToken(w, r)))
}

// serveCompare shows two runs on one time axis.
func (s *Server) serveCompare(w http.ResponseWriter, r *http.Request) error {
	a, err := s.storedRun(r, r.URL.Query().Get("a"))
	if err != nil {
		return err
	}
	b, err := s.storedRun(r, r.URL.Query().Get("b"))
	if err != nil {
		return err
	}
	return render(w, r, templates.Compare(s.runView(a), s.runView(b), s.hostStatus()))
}

// serveLive streams a run's messages over a websocket.
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	if !grading.ValidID(id) {
		return errorf(KindNotFound, "There is no run %q.", id)
	}
	st, err := s.runs.stream(id)
	if errors.Is(err, labs.ErrNotFound) {
		return errorf(KindNotFound, "There is no run %q.", id)
	}
	if errors.Is(err, errWaiting) {
		return errorf(KindUnavailable, "This run is waiting to be graded again after a restart; it starts in a moment.")
	}
	if err != nil {
		return fmt.Errorf("live %s: %w", id, err)
	}
	return live.Serve(s.runs.ctx, w, r, st, s.cfg.Live)
}

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

// clientID returns the browser's anonymous id, setting the cookie on first
// use. It keys "my runs" and best scores until the classroom adds people.
func clientID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie("lab_client"); err == nil && validHex(c.Value, 32) {
		return c.Value
	}
	if w == nil {
		return "" // no cookie yet: the address limit applies
	}
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: "lab_client", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		MaxAge: 365 * 24 * 3600})
	r.AddCookie(&http.Cookie{Name: "lab_client", Value: id})
	return id
}

func validHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// csrfToken returns the client's token, setting the cookie on first use.
// The form carries it back; a cross-site form cannot read the cookie.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie("csrf"); err == nil && validHex(c.Value, 32) {
		return c.Value
	}
	var b [16]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: "csrf", Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return tok
}

// requireCSRF refuses a state-changing API request that does not carry
// the client's token.
func (s *Server) requireCSRF(next http.Handler) http.Handler {
	refuse := s.api(func(http.ResponseWriter, *http.Request) error {
		return errorf(KindForbidden, "This page has expired or the request did not come from this site. Reload the page and try again.")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !csrfHeaderValid(r) {
			refuse(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// csrfHeaderValid reports whether the request carries the client's token
// in its X-CSRF-Token header. A cross-site page can neither read the
// cookie nor set the header without a preflight this server never allows.
func csrfHeaderValid(r *http.Request) bool {
	c, err := r.Cookie("csrf")
	if err != nil || len(c.Value) != 32 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.Header.Get("X-CSRF-Token"))) == 1
}

func clientKey(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}

// rateLimiter allows n events per window per key.
type rateLimiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	seen   map[string][]time.Time
}

func newRateLimiter(n int, window time.Duration) *rateLimiter {
	return &rateLimiter{n: n, window: window, seen: make(map[string][]time.Time)}
}

func (l *rateLimiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if len(l.seen) > 10000 {
		// Forget clients that have been quiet for a whole window, so the
		// map does not grow with every address ever seen.
		for k, ts := range l.seen {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) > l.window {
				delete(l.seen, k)
			}
		}
	}
	ts := l.seen[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) >= l.n {
		l.seen[key] = ts
		return false
	}
	l.seen[key] = append(ts, now)
	return true
}
