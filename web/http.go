package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// shutdownGrace is how long Serve lets requests in flight finish once its
// context is done.
const shutdownGrace = 5 * time.Second

// Serve answers HTTP on ln until ctx is done, then lets the requests in
// flight finish for a few seconds. It bounds how long a client may take
// over a request and how many connections one address, and all of them,
// may hold (see [Config]); websockets outlive both once upgraded. Call Close after it
// to end the runs and their websockets.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	m := s.runs.metrics
	lim := newConnLimiter(ln, s.cfg.MaxConnsPerAddr, s.cfg.MaxConns, s.log, m.refused.Inc, m.evicted.Inc)
	hs.ConnState = lim.state
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(lim) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("serve http: shutdown: %w", err)
		}
		return nil
	}
}
