package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynclab/asynclab/exercises/catalog"
	"github.com/asynclab/asynclab/labs/sqlite"
	"github.com/asynclab/asynclab/web"
)

// lockedBuffer is a log sink the server's goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRequestLog: every request is logged with its route, status and
// time, never with the token or id its path carries.
func TestRequestLog(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var logs lockedBuffer
	s := web.New(web.Config{Exercises: catalog.All(), Store: store, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ts := httptest.NewServer(s)
	defer func() { ts.Close(); s.Close() }()
	const secret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, path := range []string{"/link/" + secret, "/exercises/connect", "/no/such/page"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// A request is logged once answered: the client may read the answer
	// a moment before the line is written.
	var out string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if out = logs.String(); strings.Count(out, "msg=request") >= 3 {
			break
		}
	}
	for _, want := range []string{
		`method=GET route=/link/{token} status=404`,
		`method=GET route=/exercises/{slug} status=200`,
		`route=unmatched status=404`,
		`time=`, `dur=`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, secret) {
		t.Errorf("the log carries a link's token:\n%s", out)
	}
}
