package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The first start of `lab serve` prints a one-time link that creates the
// first instructor's account; a restart replaces it; once someone has an
// account, no start prints one.
func TestFirstStartPrintsSetupLink(t *testing.T) {
	data := filepath.Join(t.TempDir(), "lab-data")
	s1 := startServer(t, data)
	first := s1.setupLink(t)
	// The data directory holds every student's code: the server's alone.
	if fi, err := os.Stat(data); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the new data directory: %v, %v; want mode 700", fi.Mode(), err)
	}
	s1.stop(t)

	s2 := startServer(t, data)
	link := s2.setupLink(t)
	if link == first {
		t.Fatalf("a restart printed the same link %s", link)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Each start listens on a port of its own: ask this one for the old link.
	old := s2.base + first[strings.Index(first, "/link/"):]
	if code, _ := get(old); code != http.StatusNotFound {
		t.Errorf("GET the link the first start printed = %d, want 404: a restart replaces it", code)
	}
	code, page := get(link)
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]{32})"`).FindStringSubmatch(page)
	if code != http.StatusOK || csrf == nil {
		t.Fatalf("GET %s = %d, want the setup form:\n%s", link, code, page)
	}
	resp, err := c.PostForm(link, url.Values{"csrf": {csrf[1]}, "name": {"Ada"}, "email": {"ada@example.edu"}, "password": {"correct horse"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `data-testid="signed-in-as">Ada<`) {
		t.Fatalf("POST the setup form = %d, want Ada signed in on the catalogue:\n%s", resp.StatusCode, b)
	}
	s2.stop(t)

	s3 := startServer(t, data)
	if code, _ := get(s3.base + "/healthz"); code != http.StatusOK {
		t.Fatalf("healthz = %d", code)
	}
	select {
	case l := <-s3.setup:
		t.Errorf("a start with an instructor printed a setup link %s", l)
	case <-time.After(time.Second): // printed before it listens, so it would be here by now
	}
}

// setupLink returns the first-start link the server printed.
func (s *server) setupLink(t *testing.T) string {
	t.Helper()
	select {
	case l := <-s.setup:
		return l
	case <-time.After(30 * time.Second):
		t.Fatal("the server printed no first-start link")
		return ""
	}
}

// stop kills the server and waits for it to exit, freeing its data
// directory for the next.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Kill()
	s.cmd.Wait()
}
