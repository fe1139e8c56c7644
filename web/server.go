// Package web serves the lab: the catalogue, the exercise pages with their
// editor and live timeline, the JSON API that starts runs, the websocket
// that streams them, and the replay, compare and export of recorded runs.
// Handlers return errors; one function maps them to status codes, as pages
// or as JSON.
//
// The files follow the server's concerns: routes.go lists every route;
// exercises.go, api.go, replay.go, export.go and websocket.go hold the
// handlers of one area each; runs.go grades runs in the background;
// error.go, jsonio.go, client.go, csrf.go and ratelimit.go are what the
// handlers share; http.go and listener.go are the HTTP server that faces
// the network.
package web

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/grading"
	"github.com/asynclab/asynclab/internal/rlimit"
	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/queue"
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

// Config configures a [Server]. A zero field takes its default.
type Config struct {
	Exercises []*exercises.Exercise
	// Store records every run, its result and its traces.
	Store labs.Store
	// Queue holds the runs waiting to be graded; its workers call
	// [Server.Work] and [Server.GiveUp]. Required.
	Queue Queue
	// Workers is how many runs of each lane the queue's workers grade at
	// once, for estimating waits; default 1 per lane.
	Workers map[queue.Lane]int
	// Grader grades submissions; nil while it is still being prepared.
	Grader func() Grader
	// Ready reports why grading must be refused on this host (nil: it may
	// run). The lab never runs a submission unconfined.
	Ready  func() error
	Logger *slog.Logger
	// Now is the server's clock; default time.Now.
	Now func() time.Time
	// RunsPerMinute limits runs per browser; default 20. An address may
	// make ten times as many, since a class behind one NAT shares it. A
	// client that sends no browser id is limited as its address.
	RunsPerMinute int
	// Live tunes the websocket connections.
	Live live.Options

	// ReadHeaderTimeout, ReadTimeout and IdleTimeout bound how long
	// [Server.Serve] waits on a client: for a request's header, for the
	// whole request, and for the next request on a kept-alive connection.
	// Defaults 10s, 1m and 2m. A websocket is free of them once upgraded.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration
	// MaxConnsPerAddr caps the connections [Server.Serve] keeps open from
	// one IP address; one more is closed at once. Default 256, since a
	// class behind one NAT shares an address.
	MaxConnsPerAddr int
	// MaxConns caps the connections [Server.Serve] keeps open in all; at
	// the cap a new one first closes the connection idle the longest.
	// Default three quarters of the open-files limit, leaving the rest to
	// the sandboxes and the stores.
	MaxConns int
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.RunsPerMinute <= 0 {
		c.RunsPerMinute = 20
	}
	if c.Live.Logger == nil {
		c.Live.Logger = c.Logger
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = 10 * time.Second
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = time.Minute
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 2 * time.Minute
	}
	if c.MaxConnsPerAddr <= 0 {
		c.MaxConnsPerAddr = 256
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 4096
		if n, ok := rlimit.OpenFiles(); ok && n < 1<<30 {
			c.MaxConns = max(256, int(n)*3/4)
		}
	}
	return c
}

// Server is the lab's HTTP handler.
type Server struct {
	cfg    Config
	log    *slog.Logger
	router chi.Router
	limit  *rateLimiter // runs per browser
	hosts  *rateLimiter // runs per address, looser: a class may share one
	// signIns and signInsPerEmail limit sign-in attempts per address and
	// per account.
	signIns, signInsPerEmail *rateLimiter
	// submitting serializes the submissions made for assignments, each
	// checked against its cap before it is stored.
	submitting sync.Mutex
	runs       *runner
	heavy      chan struct{} // exports being built at once
	watches    *watches      // "watch with me" sessions in progress
}

// New returns a server. Call Close when done with it.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger.With("subsystem", "web"),
		limit:   newRateLimiter(cfg.RunsPerMinute, time.Minute, cfg.Now),
		hosts:   newRateLimiter(10*cfg.RunsPerMinute, time.Minute, cfg.Now),
		heavy:   make(chan struct{}, 4),
		watches: newWatches(),
		// A class of hundreds behind one NAT signs in at the start of a
		// lesson; the per-account limit is what stops guessing.
		signIns:         newRateLimiter(600, 5*time.Minute, cfg.Now),
		signInsPerEmail: newRateLimiter(10, 5*time.Minute, cfg.Now),
	}
	s.runs = newRunner(cfg, s.log)
	s.router = s.routes()
	return s
}

// Resume puts back in line the runs a stopped server left unfinished and
// shows their places. Call it once at start; it is safe before or after
// the queue's workers start.
func (s *Server) Resume(ctx context.Context) (int, error) {
	return s.runs.resume(ctx)
}

// Work grades the run of job: the queue's [queue.Config.Work]. It returns
// nil once the run is finished in the store, or was already.
func (s *Server) Work(ctx context.Context, job queue.Job) error { return s.runs.work(ctx, job) }

// GiveUp ends job's run as interrupted, saying why: the queue's
// [queue.Config.GiveUp].
func (s *Server) GiveUp(ctx context.Context, job queue.Job, reason string) error {
	return s.runs.giveUp(ctx, job, reason)
}

// Close stops the runs in progress, leaving them to be resumed by the next
// server, and waits for them.
func (s *Server) Close() { s.runs.close() }

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
