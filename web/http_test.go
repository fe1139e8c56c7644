package web_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/labs/sqlite"
	"github.com/asynclab/asynclab/web"
)

// serve runs cfg's server with Serve on a loopback port until the test
// ends, and returns its address.
func serve(t *testing.T, cfg web.Config) string {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Exercises, cfg.Store = catalog.All(), store
	s := web.New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		s.Close()
		store.Close()
	})
	return ln.Addr().String()
}

// getOn sends one request for /healthz on conn, kept alive, and reads
// the answer's status line.
func getOn(conn net.Conn, r *bufio.Reader) (string, error) {
	if _, err := fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: lab\r\n\r\n"); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Status, nil
}

// TestConnectionsPerAddress: an address holds at most MaxConnsPerAddr
// connections, one more is closed unanswered, and a closed one frees its
// place.
func TestConnectionsPerAddress(t *testing.T) {
	const max = 3
	addr := serve(t, web.Config{MaxConnsPerAddr: max})
	var open []net.Conn
	for i := range max {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := getOn(c, bufio.NewReader(c)); err != nil {
			t.Fatalf("connection %d of %d: %v", i+1, max, err)
		}
		open = append(open, c)
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetDeadline(time.Now().Add(30 * time.Second))
	if status, err := getOn(extra, bufio.NewReader(extra)); err == nil {
		t.Errorf("connection %d was answered %q, want it closed", max+1, status)
	}

	open[0].Close()
	// The server sees the close when it next reads; a new connection may
	// race it, so ask a few times.
	var status string
	for range 100 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		status, err = getOn(c, bufio.NewReader(c))
		c.Close()
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.HasPrefix(status, "200") {
		t.Errorf("after one closed, a new connection got %q, want 200", status)
	}
}

// TestIdleConnectionsAreClosed: a kept-alive connection that sends
// nothing more is closed after IdleTimeout, and one that never finishes
// its header after ReadHeaderTimeout.
func TestIdleConnectionsAreClosed(t *testing.T) {
	addr := serve(t, web.Config{IdleTimeout: 200 * time.Millisecond, ReadHeaderTimeout: 200 * time.Millisecond})
	for _, tc := range []struct {
		name string
		send string
	}{
		{"idle after a request", "GET /healthz HTTP/1.1\r\nHost: lab\r\n\r\n"},
		{"header never finished", "GET /healthz HTTP/1.1\r\nHost: lab\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			// Whatever the server answers, it then closes: reading ends
			// well before this generous deadline.
			c.SetReadDeadline(time.Now().Add(time.Minute))
			if _, err := io.Copy(io.Discard, c); err != nil {
				t.Errorf("the connection was not closed by the server: %v", err)
			}
		})
	}
}

// TestStaticAndHead: /static/ serves files, never a folder's listing, and
// HEAD is answered wherever GET is, without a body.
func TestStaticAndHead(t *testing.T) {
	ts := newServer(t, nil)
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/static/lab.js", http.StatusOK},
		{"HEAD", "/static/lab.js", http.StatusOK},
		{"GET", "/static/", http.StatusNotFound},
		{"GET", "/static", http.StatusNotFound},
		{"GET", "/static/nothing.js", http.StatusNotFound},
		{"HEAD", "/", http.StatusOK},
		{"HEAD", "/exercises/connect", http.StatusOK},
		{"HEAD", "/healthz", http.StatusOK},
		{"HEAD", "/no/such/page", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, nil)
		resp, err := ts.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
		if tc.method == "HEAD" && len(body) > 0 {
			t.Errorf("HEAD %s sent a body of %d bytes", tc.path, len(body))
		}
		if tc.path == "/static/" && strings.Contains(string(body), "lab.js") {
			t.Errorf("GET /static/ lists the folder: %q", body)
		}
	}
}

// TestReadyAndMetrics: /readyz says whether runs are graded here and why
// not; /metrics counts a graded run in its lane, with its wait.
func TestReadyAndMetrics(t *testing.T) {
	off := newServer(t, func() error { return errors.New("user namespaces are disabled") })
	if code, body := off.get(t, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "user namespaces are disabled") {
		t.Errorf("/readyz on a host without the sandbox = %d %q, want 503 with the reason", code, body)
	}

	ts := newServer(t, nil)
	if code, body := ts.get(t, "/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("/readyz = %d %q, want 200 ready", code, body)
	}
	id := ts.start(t, "connect", map[string]any{"code": "package handler\n", "mode": "run"})
	if msgs := ts.follow(t, id, 0); msgs[len(msgs)-2].Type != "result" {
		t.Fatalf("the run streamed %s", types(msgs))
	}
	// The server counts a viewer out when its handler returns, which may
	// be just after the client saw the socket close.
	code, body := ts.get(t, "/metrics")
	for deadline := time.Now().Add(10 * time.Second); code == http.StatusOK && !strings.Contains(body, "asynclab_live_viewers 0\n") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		code, body = ts.get(t, "/metrics")
	}
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`asynclab_runs_total{lane="practice",verdict="passed"} 1`,
		`asynclab_queue_wait_seconds_count{lane="practice"} 1`,
		`asynclab_grade_seconds_count{lane="practice"} 1`,
		`asynclab_queue_depth{lane="practice",state="in_line"} 0`,
		`asynclab_queue_depth{lane="submission",state="waiting"} 0`,
		`asynclab_queue_running{lane="submission"} 0`,
		`asynclab_live_viewers 0`,
		`asynclab_connections_refused_total 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics has no line %q", want)
		}
	}
}

// TestConnectionsInAll: at MaxConns the server closes the connection idle
// the longest to make room, so a flood of idle connections from many
// addresses, each under its own cap, does not lock out a student.
func TestConnectionsInAll(t *testing.T) {
	const total = 10
	addr := serve(t, web.Config{MaxConns: total})
	var idle []net.Conn
	for i := range 3 * total {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(i+1))}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	// A student's page still loads.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if status, err := getOn(c, bufio.NewReader(c)); err != nil || !strings.HasPrefix(status, "200") {
		t.Errorf("a page at the cap: %q, %v; want 200", status, err)
	}
	// All but total-1 of the idle ones were closed by the server, the
	// oldest first.
	closed := 0
	for i, c := range idle {
		c.SetReadDeadline(time.Now().Add(time.Second))
		_, err := c.Read(make([]byte, 1))
		if err == io.EOF {
			closed++
		} else if i < len(idle)-(total-1) {
			t.Errorf("idle connection %d of %d, among the oldest, is still open (%v)", i+1, len(idle), err)
		}
	}
	if want := len(idle) - (total - 1); closed < want {
		t.Errorf("%d idle connections were closed, want at least %d", closed, want)
	}
}
