package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/asynclab/asynclab/exercises/catalog"
)

// startRun starts a run of code in mode ("run" or "submit") on connect,
// as a browser does, and returns its id.
func startRun(t *testing.T, base, code, mode string) string {
	t.Helper()
	return startRunOn(t, base, "connect", code, mode)
}

// startRunOn starts a run of code in mode on the exercise slug, as a new
// browser (so, a new student) does, and returns its id.
func startRunOn(t *testing.T, base, slug, code, mode string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Get(base + "/exercises/" + slug)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := regexp.MustCompile(`data-csrf="([0-9a-f]{32})"`).FindSubmatch(page)
	if tok == nil {
		t.Fatal("no CSRF token on the exercise page")
	}
	body, _ := json.Marshal(map[string]any{"code": code, "mode": mode})
	req, _ := http.NewRequest("POST", base+"/api/exercises/"+slug+"/runs", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", string(tok[1]))
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var started struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&started)
	if resp.StatusCode != http.StatusAccepted || started.ID == "" {
		t.Fatalf("start = %d %+v", resp.StatusCode, started)
	}
	return started.ID
}

// submitReference submits connect's reference to the server at base and
// returns the run's id and the code.
func submitReference(t *testing.T, base string) (string, []byte) {
	t.Helper()
	for _, ex := range catalog.All() {
		if ex.Slug == "connect" {
			return startRun(t, base, string(ex.Reference), "submit"), ex.Reference
		}
	}
	t.Fatal("no connect exercise")
	return "", nil
}

// message is a server message of a run's websocket: its type, and all of
// it.
type message struct {
	Type string
	Raw  []byte
}

// readRun reads run id's websocket on the server at base until a message
// of type until (or for at most wait), and returns the messages read.
func readRun(base, id, until string, wait time.Duration) ([]message, error) {
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws/runs/"+id, nil)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(wait))
	var msgs []message
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			return msgs, fmt.Errorf("run %s: no %q message: %w", id, until, err)
		}
		// Keep up with a flood: the type is near the start, and the
		// events themselves (megabytes of them) are not kept.
		m := message{Type: messageType(b)}
		if m.Type != "events" {
			m.Raw = b
		}
		msgs = append(msgs, m)
		if m.Type == until {
			return msgs, nil
		}
	}
}

// messageType reads a message's type from its head, where the server
// writes it (`{"seq":12,"type":"events",...`), without decoding the rest.
func messageType(b []byte) string {
	const key = `"type":"`
	head := b[:min(len(b), 96)]
	i := bytes.Index(head, []byte(key))
	if i < 0 {
		var m struct{ Type string }
		json.Unmarshal(b, &m)
		return m.Type
	}
	rest := head[i+len(key):]
	if j := bytes.IndexByte(rest, '"'); j >= 0 {
		return string(rest[:j])
	}
	return ""
}

// waitTrack waits until run id's handler runs in the sandbox.
func waitTrack(t *testing.T, base, id string) {
	t.Helper()
	if _, err := readRun(base, id, "track", time.Minute); err != nil {
		t.Fatal(err)
	}
}
