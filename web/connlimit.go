package web

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// connLimiter is a listener that bounds the connections the server keeps
// open, so that idle keep-alive connections exhaust neither the process's
// descriptors nor its goroutines:
//   - at most perAddr from any one IP address: one more is closed as soon
//     as it is accepted, before the server reads from it;
//   - at most total in all: one more first closes the connection idle the
//     longest (between requests, or never sent one), and is closed itself
//     only when none is idle.
//
// A connection being served a request (its header read), or upgraded to a
// websocket, is never closed for room; one that has not finished sending
// a request header counts as idle, as a slow client is indistinguishable
// from an idle one. [connLimiter.state] must be the server's ConnState.
type connLimiter struct {
	net.Listener
	perAddr, total int
	log            *slog.Logger
	refused        func() // counts a connection closed at once
	evicted        func() // counts an idle connection closed for room

	mu         sync.Mutex
	open       map[string]int             // connections open per address
	all        int                        // connections open
	idle       map[*limitedConn]time.Time // idle connections, since when
	lastLogged map[string]time.Time       // when each kind of refusal was last logged
}

func newConnLimiter(ln net.Listener, perAddr, total int, log *slog.Logger, refused, evicted func()) *connLimiter {
	return &connLimiter{Listener: ln, perAddr: perAddr, total: total, log: log, refused: refused, evicted: evicted,
		open: map[string]int{}, idle: map[*limitedConn]time.Time{}, lastLogged: map[string]time.Time{}}
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := hostOf(c.RemoteAddr())
		ok, evict := l.take(host)
		if evict != nil {
			evict.Close()
			l.evicted()
		}
		if ok {
			return &limitedConn{Conn: c, release: func() { l.give(host) }}, nil
		}
		c.Close()
		l.refused()
	}
}

// take counts a new connection from host, or reports that it must be
// refused; evict, if not nil, is an idle connection to close to make room.
func (l *connLimiter) take(host string) (ok bool, evict *limitedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[host] >= l.perAddr {
		l.logOnce("address", "refusing connections: too many open from one address", "addr", host, "max", l.perAddr)
		return false, nil
	}
	if l.all >= l.total {
		var since time.Time
		for c, t := range l.idle {
			if evict == nil || t.Before(since) {
				evict, since = c, t
			}
		}
		if evict == nil {
			l.logOnce("total", "refusing connections: the server holds as many as it may, none idle", "max", l.total)
			return false, nil
		}
		// The evicted one gives its place back when it is closed; count
		// the new one now, past the total for that moment.
		delete(l.idle, evict)
	}
	l.open[host]++
	l.all++
	return true, evict
}

// logOnce logs a refusal of kind at most once a minute: enough to see a
// flood in the log.
func (l *connLimiter) logOnce(kind, msg string, args ...any) {
	if now := time.Now(); now.Sub(l.lastLogged[kind]) > time.Minute {
		l.lastLogged[kind] = now
		l.log.Warn(msg, args...)
	}
}

func (l *connLimiter) give(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all--
	if l.open[host]--; l.open[host] <= 0 {
		delete(l.open, host)
	}
}

// state follows each connection's state: only an idle one may be closed
// for room.
func (l *connLimiter) state(c net.Conn, st http.ConnState) {
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch st {
	case http.StateNew, http.StateIdle:
		l.idle[lc] = time.Now()
	default: // active, hijacked (a websocket), closed
		delete(l.idle, lc)
	}
}

// hostOf returns the IP address of a connection's remote end.
func hostOf(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// limitedConn gives its place back once, when it is closed, whether by the
// HTTP server, by the limiter for room, or, after an upgrade, by the
// websocket.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
