// Package web serves the lab's pages: the catalogue, the exercise pages and
// graded results. Handlers return errors; one function maps them to status
// codes and pages.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/yuin/goldmark"

	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/grading/builder"
	"github.com/asynclab/asynclab/templates"
)

// MaxCode is the largest submission the server reads, in bytes.
const MaxCode = 256 << 10

// Grader is what the server needs to grade a submission and to serve the
// traces of graded runs. It must be safe for concurrent use.
type Grader interface {
	Grade(ctx context.Context, sub grading.Submission) (*grading.Result, error)
	OpenTrace(id, file string) (io.ReadCloser, error)
}

var _ Grader = (*grading.Grader)(nil)

// Config configures a [Server].
type Config struct {
	Exercises []*exercises.Exercise
	// Grader grades submissions; nil while it is still being prepared.
	Grader func() Grader
	// Ready reports why grading must be refused on this host (nil: it may
	// run). The lab never runs a submission unconfined.
	Ready  func() error
	Logger *slog.Logger
	// RunsPerMinute limits submissions per client address; default 20.
	RunsPerMinute int
}

// Server is the lab's HTTP handler.
type Server struct {
	cfg    Config
	log    *slog.Logger
	router chi.Router
	limit  *rateLimiter
}

// New returns a server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RunsPerMinute <= 0 {
		cfg.RunsPerMinute = 20
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("subsystem", "web"), limit: newRateLimiter(cfg.RunsPerMinute, time.Minute)}
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Get("/", s.handle(s.serveCatalogue))
	r.Get("/exercises/{slug}", s.handle(s.serveExercise))
	r.Post("/exercises/{slug}/submit", s.handle(s.serveSubmit))
	r.Get("/runs/{id}/{file}", s.handle(s.serveExport))
	r.Handle("/static/*", staticHandler())
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	r.NotFound(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return errorf(KindNotFound, "There is no page at %s.", r.URL.Path)
	}))
	s.router = r
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// handle adapts a handler that returns an error: the error becomes a page
// with the right status, and internal errors are logged.
func (s *Server) handle(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		code, msg := status(err)
		if code >= 500 && code != http.StatusServiceUnavailable {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(code)
		templates.ErrorPage(code, msg, s.status()).Render(r.Context(), w)
	}
}

// grader returns the grader, or nil while it is still being prepared.
func (s *Server) grader() Grader {
	if s.cfg.Grader == nil {
		return nil
	}
	return s.cfg.Grader()
}

func (s *Server) status() templates.Status {
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

func (s *Server) find(r *http.Request) (*exercises.Exercise, error) {
	slug := chi.URLParam(r, "slug")
	for _, ex := range s.cfg.Exercises {
		if ex.Slug == slug {
			return ex, nil
		}
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
	var items []templates.ExerciseItem
	for _, ex := range s.cfg.Exercises {
		items = append(items, item(ex))
	}
	return render(w, r, templates.Catalogue(items, s.status()))
}

func (s *Server) serveExercise(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.find(r)
	if err != nil {
		return err
	}
	var html bytes.Buffer
	if err := goldmark.Convert([]byte(ex.Instructions), &html); err != nil {
		return fmt.Errorf("render instructions of %s: %w", ex.Slug, err)
	}
	v := templates.ExerciseView{ExerciseItem: item(ex), InstructionsHTML: html.String(), Predict: ex.Predict,
		Starter: string(ex.Starter), Signature: ex.Signature}
	return render(w, r, templates.Exercise(v, s.status(), csrfToken(w, r)))
}

func (s *Server) serveSubmit(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.find(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxCode+4096)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(KindLimit, "The submission is larger than %d KiB.", MaxCode>>10)
		}
		return errorf(KindInvalid, "The form could not be read.")
	}
	if !csrfValid(r) {
		return errorf(KindForbidden, "This form has expired or did not come from this site. Reload the page and submit again.")
	}
	if err := s.status(); !err.Ready {
		return errorf(KindUnavailable, "Grading is off on this host: %s. Nothing was run.", err.Reason)
	}
	if !s.limit.allow(clientKey(r)) {
		return errorf(KindLimit, "Too many runs from your address; wait a minute and try again.")
	}
	code := r.PostFormValue("code")
	if strings.TrimSpace(code) == "" {
		return errorf(KindInvalid, "The submission is empty.")
	}
	g := s.grader()
	if g == nil {
		return errorf(KindUnavailable, "The grader is still warming up its build cache; try again in a few seconds.")
	}
	res, err := g.Grade(r.Context(), grading.Submission{Exercise: ex,
		Files: []builder.File{{Name: "handler.go", Data: []byte(code)}}})
	if err != nil {
		return fmt.Errorf("grade %s: %w", ex.Slug, err)
	}
	return render(w, r, templates.Result(resultView(ex, res), s.status()))
}

func resultView(ex *exercises.Exercise, res *grading.Result) templates.ResultView {
	v := templates.ResultView{Exercise: ex.Slug, Title: ex.Title, Verdict: string(res.Verdict), Message: res.Message,
		Score: res.Score, Max: res.Max, ID: res.ID}
	for _, p := range res.Problems {
		v.Problems = append(v.Problems, p.String())
	}
	for _, c := range res.Checks {
		cv := templates.CheckView{ID: c.ID, Title: c.Title, Message: c.Message, Hint: c.Hint, Points: c.Points, Max: c.Max, Passed: c.Passed}
		if c.Ref != nil {
			cv.Where = fmt.Sprintf("%s on %s, %v into the run (event %d)", c.Ref.Scenario, c.Ref.Backend,
				time.Duration(c.Ref.Time).Round(time.Microsecond), c.Ref.Seq)
		}
		v.Checks = append(v.Checks, cv)
	}
	for _, r := range res.Runs {
		rv := templates.RunView{Scenario: r.Scenario, Backend: string(r.Backend), Verdict: string(r.Verdict),
			Answer: r.Answer, Error: r.Error, Events: r.Events}
		if r.TraceFile != "" && res.ID != "" {
			rv.Export = "/runs/" + res.ID + "/" + r.TraceFile + ".json"
		}
		v.Runs = append(v.Runs, rv)
	}
	return v
}

// serveExport sends a stored run as Chrome Trace Event JSON, which
// Perfetto and chrome://tracing open.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request) error {
	g := s.grader()
	if g == nil {
		return errorf(KindUnavailable, "Stored runs are not available while the grader starts.")
	}
	id, file := chi.URLParam(r, "id"), chi.URLParam(r, "file")
	file, ok := strings.CutSuffix(file, ".json")
	if !ok {
		return errorf(KindNotFound, "Runs are exported as .json.")
	}
	f, err := g.OpenTrace(id, file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return errorf(KindNotFound, "There is no stored run %s/%s.", id, file)
		}
		return err
	}
	defer f.Close()
	// The stored bytes came from the sandbox: decode them as strictly as
	// the grader did.
	t, err := trace.Decode(f, trace.DefaultLimits())
	if err != nil && t == nil {
		return errorf(KindInvalid, "The stored trace of this run cannot be read: %v", err)
	}
	var buf bytes.Buffer
	if err := trace.WriteChrome(&buf, t); err != nil {
		return fmt.Errorf("export %s/%s: %w", id, file, err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", strings.TrimSuffix(file, ".trace")+".json"))
	_, err = buf.WriteTo(w)
	return err
}

// csrfToken returns the client's token, setting the cookie on first use.
// The form carries it back; a cross-site form cannot read the cookie.
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie("csrf"); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	var b [16]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: "csrf", Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return tok
}

func csrfValid(r *http.Request) bool {
	c, err := r.Cookie("csrf")
	if err != nil || len(c.Value) != 32 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
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
