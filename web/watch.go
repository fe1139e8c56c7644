package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/templates"
)

// "Watch with me": a course's staff member shows one of their runs to the
// class. Every member of the course who opens the course's watch page sees
// the run, and the timeline follows the presenter's cursor and selection
// as they step through it, until the presenter ends the session. Sessions
// live in this process's memory: they are for a lesson, not for keeping,
// and a restart ends them.

// watchPos is where the presenter stands in the run: the timeline's
// cursor, and the selected event if there is one.
type watchPos struct {
	Cursor float64 `json:"cursor"`
	Track  string  `json:"track,omitempty"`
	Loop   int     `json:"loop"`
	Seq    uint64  `json:"seq,omitempty"`
}

// watch is one course's session.
type watch struct {
	course, run string
	by, byName  string // the presenter
	pos         watchPos
	n           uint64 // counts the presenter's moves
}

// watchMsg is what a watcher is sent: the session's state, or that it
// ended ("ended"), or why a message of theirs was refused ("error").
type watchMsg struct {
	Type    string `json:"type"`
	Run     string `json:"run,omitempty"`
	By      string `json:"by,omitempty"`
	N       uint64 `json:"n,omitempty"`
	Message string `json:"message,omitempty"`
	*watchPos
}

// watches are the sessions in progress, by course, and who follows each
// course, with a session or without one yet.
type watches struct {
	mu       sync.Mutex
	byCourse map[string]*watch
	subs     map[string]map[chan struct{}]struct{}
}

func newWatches() *watches {
	return &watches{byCourse: map[string]*watch{}, subs: map[string]map[chan struct{}]struct{}{}}
}

// notify wakes course's followers; the caller holds ws.mu. A follower
// with a wake-up pending reads the latest state then, so none is queued.
func (ws *watches) notify(course string) {
	for ch := range ws.subs[course] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// start begins a session in course, replacing the one before.
func (ws *watches) start(course, run, by, byName string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.byCourse[course] = &watch{course: course, run: run, by: by, byName: byName}
	ws.notify(course)
}

// end ends course's session, if it has one.
func (ws *watches) end(course string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.byCourse[course] != nil {
		delete(ws.byCourse, course)
		ws.notify(course)
	}
}

// state is what course's followers are shown now.
func (ws *watches) state(course string) watchMsg {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	w := ws.byCourse[course]
	if w == nil {
		return watchMsg{Type: "ended"}
	}
	pos := w.pos
	return watchMsg{Type: "watch", Run: w.run, By: w.byName, N: w.n, watchPos: &pos}
}

// session returns a copy of course's session, or nil.
func (ws *watches) session(course string) *watch {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if w := ws.byCourse[course]; w != nil {
		c := *w
		return &c
	}
	return nil
}

// sessions returns a copy of every session in progress.
func (ws *watches) sessions() []watch {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	out := make([]watch, 0, len(ws.byCourse))
	for _, w := range ws.byCourse {
		out = append(out, *w)
	}
	return out
}

// move sets the presenter's position in course's session: only the
// presenter of the run being shown moves it.
func (ws *watches) move(course, by, run string, pos watchPos) error {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	w := ws.byCourse[course]
	switch {
	case w == nil:
		return errors.New("no run is being shown in this course")
	case w.by != by:
		return errors.New("only the presenter steps the class through the run")
	case w.run != run:
		return errors.New("the presenter shows another run now")
	}
	w.pos = pos
	w.n++
	ws.notify(course)
	return nil
}

// follow returns a channel woken whenever course's session starts,
// moves or ends, and how to stop following.
func (ws *watches) follow(course string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.subs[course] == nil {
		ws.subs[course] = map[chan struct{}]struct{}{}
	}
	ws.subs[course][ch] = struct{}{}
	return ch, func() {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		delete(ws.subs[course], ch)
		if len(ws.subs[course]) == 0 {
			delete(ws.subs, course)
		}
	}
}

// showing reports whether run is shown to a course user is a member of:
// while it is, they may open it.
func (s *Server) showing(r *http.Request, run, user string) (bool, error) {
	for _, w := range s.watches.sessions() {
		if w.run != run {
			continue
		}
		_, err := s.cfg.Store.Member(r.Context(), w.course, user)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, labs.ErrNotFound) {
			return false, err
		}
	}
	return false, nil
}

// serveStartWatch shows one of the viewer's runs (form: run) to a course
// they teach (form: course).
func (s *Server) serveStartWatch(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	p, err := s.placeIn(r, r.PostFormValue("course"))
	if err != nil {
		return err
	}
	if !p.staff {
		return errorf(KindForbidden, "Only the course's staff show a run to the class.")
	}
	run, err := s.storedRun(r, r.PostFormValue("run"))
	if err != nil {
		return err
	}
	u := viewer(r)
	if run.Client != u.ID {
		return errorf(KindForbidden, "Show the class a run of your own: a student's code is theirs.")
	}
	s.watches.start(p.course.ID, run.ID, u.ID, u.Name)
	s.log.Info("watch started", "course", p.course.ID, "run", run.ID, "by", u.ID)
	http.Redirect(w, r, "/courses/"+p.course.ID+"/watch", http.StatusSeeOther)
	return nil
}

// serveEndWatch ends the course's session.
func (s *Server) serveEndWatch(w http.ResponseWriter, r *http.Request) error {
	p, err := s.coursePlace(r)
	if err != nil {
		return err
	}
	if !p.staff {
		return errorf(KindForbidden, "Only the course's staff end a session.")
	}
	if err := readForm(w, r); err != nil {
		return err
	}
	s.watches.end(p.course.ID)
	s.log.Info("watch ended", "course", p.course.ID, "by", viewer(r).ID)
	http.Redirect(w, r, "/courses/"+p.course.ID, http.StatusSeeOther)
	return nil
}

// serveWatchPage is the course's watch page: the run being shown, which
// follows the presenter, or word that nothing is.
func (s *Server) serveWatchPage(w http.ResponseWriter, r *http.Request) error {
	p, err := s.coursePlace(r)
	if err != nil {
		return err
	}
	v := templates.WatchView{CourseID: p.course.ID, CourseName: p.course.Name, Staff: p.staff, CSRF: csrfToken(w, r)}
	if ws := s.watches.session(p.course.ID); ws != nil {
		run, err := s.storedRun(r, ws.run)
		if err != nil {
			return err
		}
		v.Run, v.By, v.Presenter = s.runView(run), ws.byName, ws.by == viewer(r).ID
		v.Showing = true
	}
	return render(w, r, templates.WatchPage(v, s.hostStatus()))
}

// watching is one session a person may join, for the banner every page
// shows them.
type watching struct {
	Course string `json:"course"`
	Name   string `json:"name"`
	By     string `json:"by"`
	URL    string `json:"url"`
}

// serveWatching lists the sessions in progress in the viewer's courses.
func (s *Server) serveWatching(w http.ResponseWriter, r *http.Request) error {
	out := []watching{}
	if u := viewer(r); u != nil {
		for _, ws := range s.watches.sessions() {
			if _, err := s.cfg.Store.Member(r.Context(), ws.course, u.ID); err != nil {
				continue
			}
			c, err := s.cfg.Store.Course(r.Context(), ws.course)
			if err != nil {
				continue
			}
			out = append(out, watching{Course: c.ID, Name: c.Name, By: ws.byName, URL: "/courses/" + c.ID + "/watch"})
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}

// maxWatchMsg is the largest message a watcher may send: a position.
const maxWatchMsg = 1 << 10

var watchUpgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 4096}

// serveWatchSocket keeps a member of the course up to date with its
// session over a websocket, and takes the presenter's moves:
// {"type":"move","run":ID,"cursor":ns,"track":T,"loop":L,"seq":S}.
// A message that is not one gets an "error" answer and changes nothing.
func (s *Server) serveWatchSocket(w http.ResponseWriter, r *http.Request) error {
	p, err := s.coursePlace(r)
	if err != nil {
		return err
	}
	course, me := p.course.ID, viewer(r).ID
	conn, err := watchUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil // Upgrade has answered
	}
	defer conn.Close()
	conn.SetReadLimit(maxWatchMsg)
	wake, stop := s.watches.follow(course)
	defer stop()
	// The reader hands its answers to the writer, the connection's only
	// writer; once the writer has stopped (quit), it answers no more and
	// its next read fails on the closed connection.
	answers := make(chan watchMsg, 4)
	gone, quit := make(chan struct{}), make(chan struct{})
	defer close(quit)
	answer := func(m watchMsg) {
		select {
		case answers <- m:
		case <-quit:
		}
	}
	go func() {
		defer close(gone)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var m struct {
				Type string `json:"type"`
				Run  string `json:"run"`
				watchPos
			}
			if err := json.Unmarshal(data, &m); err != nil || m.Type != "move" {
				answer(watchMsg{Type: "error", Message: fmt.Sprintf("not a move: %.80q", data)})
				continue
			}
			if err := s.watches.move(course, me, m.Run, m.watchPos); err != nil {
				answer(watchMsg{Type: "error", Message: err.Error()})
			}
		}
	}()
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	send := func(m watchMsg) error {
		conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		return conn.WriteJSON(m)
	}
	if err := send(s.watches.state(course)); err != nil {
		return nil
	}
	for {
		select {
		case <-wake:
			if err := send(s.watches.state(course)); err != nil {
				return nil
			}
		case m := <-answers:
			if err := send(m); err != nil {
				return nil
			}
		case <-ping.C:
			conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return nil
			}
		case <-gone:
			return nil
		case <-s.runs.ctx.Done():
			return nil
		}
	}
}
