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
	"time"

	"github.com/gorilla/websocket"
)

// A browser's side of the lab, for `lab bench grading` and the tests that
// drive real servers: start runs as a new student would, and read a
// run's websocket.

var csrfAttr = regexp.MustCompile(`data-csrf="([0-9a-f]{32})"`)

// startRunAs starts a run of code in mode ("run" or "submit") on the
// exercise slug of the lab at base, as a new browser (so, a new student)
// does, and returns its id.
func startRunAs(base, slug, code, mode string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Get(base + "/exercises/" + slug)
	if err != nil {
		return "", err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := csrfAttr.FindSubmatch(page)
	if tok == nil {
		return "", fmt.Errorf("no CSRF token on the page of %s (%s)", slug, resp.Status)
	}
	body, _ := json.Marshal(map[string]any{"code": code, "mode": mode})
	req, _ := http.NewRequest("POST", base+"/api/exercises/"+slug+"/runs", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", string(tok[1]))
	resp, err = c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var started struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&started)
	if resp.StatusCode != http.StatusAccepted || started.ID == "" {
		return "", fmt.Errorf("start a run of %s: %s", slug, resp.Status)
	}
	return started.ID, nil
}

// message is a server message of a run's websocket: its type, and all of
// it (but for events, which are not kept).
type message struct {
	Type string
	Raw  []byte
	At   time.Time // when it was read
}

// readRun reads run id's websocket on the lab at base until a message of
// type until (or for at most wait), and returns the messages read. As the
// browser does, it reconnects when the connection closes before the end
// (a run that moved to a worker of another process, a server restart),
// resuming after the last message it has, and starts over when told to
// reset.
func readRun(base, id, until string, wait time.Duration) ([]message, error) {
	deadline := time.Now().Add(wait)
	var (
		msgs []message
		seq  int
		err  error
	)
	for time.Now().Before(deadline) {
		var done bool
		msgs, seq, done, err = readRunOnce(base, id, until, deadline, msgs, seq)
		if done {
			return msgs, nil
		}
		if websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			break // the stream ended without one
		}
		time.Sleep(250 * time.Millisecond)
	}
	return msgs, fmt.Errorf("run %s: no %q message: %w", id, until, err)
}

// readRunOnce reads one connection of readRun, from after seq, appending
// to msgs; done says a message of type until came.
func readRunOnce(base, id, until string, deadline time.Time, msgs []message, seq int) ([]message, int, bool, error) {
	url := fmt.Sprintf("ws%s/ws/runs/%s?after=%d", strings.TrimPrefix(base, "http"), id, seq)
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return msgs, seq, false, err
	}
	defer conn.Close()
	conn.SetReadDeadline(deadline)
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			return msgs, seq, false, err
		}
		// Keep up with a flood: the type is near the start, and the
		// events themselves (megabytes of them) are not kept.
		m := message{Type: messageType(b), At: time.Now()}
		if m.Type != "events" {
			m.Raw = b
		}
		if m.Type == "reset" {
			msgs, seq = nil, 0
			continue
		}
		msgs = append(msgs, m)
		seq++
		if m.Type == until {
			return msgs, seq, true, nil
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
