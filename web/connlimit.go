package web

import (
	"log/slog"
	"net"
	"sync"
	"time"
)

// limitPerAddr returns a listener that keeps at most max connections open
// from any one IP address: a connection past that is closed as soon as it
// is accepted, before the server reads from it, and counted by refused. Idle keep-alive
// connections from one client can then exhaust neither the process's
// descriptors nor the server's goroutines.
func limitPerAddr(ln net.Listener, max int, log *slog.Logger, refused func()) net.Listener {
	return &addrLimiter{Listener: ln, max: max, log: log, refused: refused, open: map[string]int{}}
}

type addrLimiter struct {
	net.Listener
	max     int
	log     *slog.Logger
	refused func() // counts a connection closed at once

	mu         sync.Mutex
	open       map[string]int // connections open per address
	lastLogged time.Time
}

func (l *addrLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := hostOf(c.RemoteAddr())
		if l.take(host) {
			return &limitedConn{Conn: c, release: func() { l.give(host) }}, nil
		}
		c.Close()
		l.refused()
	}
}

// take counts a new connection from host, or reports that host has too
// many open.
func (l *addrLimiter) take(host string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[host] >= l.max {
		// One line a minute is enough to see a flood in the log.
		if now := time.Now(); now.Sub(l.lastLogged) > time.Minute {
			l.lastLogged = now
			l.log.Warn("refusing connections: too many open from one address", "addr", host, "max", l.max)
		}
		return false
	}
	l.open[host]++
	return true
}

func (l *addrLimiter) give(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[host]--; l.open[host] <= 0 {
		delete(l.open, host)
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

// limitedConn gives its address's place back once, when it is closed,
// whether by the HTTP server or, after an upgrade, by the websocket.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
