package web

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// requestLog logs each request when it is answered: method, route, status,
// bytes and how long it took. The route is the pattern ("/link/{token}"),
// never the path, so that no token or id reaches the log; assets and
// probes log at debug level only.
func (s *Server) requestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		level := slog.LevelInfo
		if strings.HasPrefix(route, "/static/") || route == "/healthz" || route == "/readyz" || route == "/metrics" {
			level = slog.LevelDebug
		}
		status := ww.Status()
		switch {
		case status != 0:
		case strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
			status = http.StatusSwitchingProtocols // hijacked: the upgrade answered on the raw connection
		default:
			status = http.StatusOK // nothing written: net/http answers 200
		}
		s.log.Log(r.Context(), level, "request", "method", r.Method, "route", route, "status", status,
			"bytes", ww.BytesWritten(), "dur", time.Since(start).Round(time.Microsecond))
	})
}
