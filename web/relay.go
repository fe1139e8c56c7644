package web

import (
	"context"
	"sync"
	"time"

	"github.com/asynclab/asynclab/labs"
	"github.com/asynclab/asynclab/web/live"
)

// A run graded by another process (a lab worker, on a store several
// processes share) reaches this one's viewers through the store: the
// grading process appends its stream's messages to the store's live
// relay as they come (relayOut), and a web node whose viewers watch the
// run follows them there (follow), woken by the store's notifications
// and looking now and then in case one was lost. A store owned by one
// process has no relay: its runs are graded where they are watched.

// relayEvery is how long the relay lets messages gather before it
// appends them: a run's events arrive in many small batches.
const relayEvery = 50 * time.Millisecond

// relayBatch is the most messages one append or read carries.
const relayBatch = 512

// relay is the runner's side of the store's live relay.
type relay struct {
	store  labs.LiveRelay
	listen sync.Once

	mu     sync.Mutex
	wakeup map[string]map[chan struct{}]bool // run -> its followers' wake-ups
}

// newRelay returns the relay of store, or nil if it has none.
func newRelay(store labs.RunStore) *relay {
	r, ok := store.(labs.LiveRelay)
	if !ok {
		return nil
	}
	return &relay{store: r, wakeup: make(map[string]map[chan struct{}]bool)}
}

// relayOut appends s's messages, try attempt of run id, to the relay as
// they come, until s ends or ctx is done. The returned function waits
// for the last append. A relay that fails stops: viewers elsewhere then
// see the run from its recording once it is finished.
func (x *runner) relayOut(ctx context.Context, id string, attempt int, s *live.Stream) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		seq := 0
		for {
			msgs, end, wake := s.Since(seq, relayBatch)
			if len(msgs) > 0 {
				if err := x.relay.store.AppendLive(ctx, id, attempt, seq+1, msgs); err != nil {
					if ctx.Err() == nil {
						x.log.Warn("relaying a run's stream", "run", id, "err", err)
					}
					return
				}
				seq += len(msgs)
				continue
			}
			if end || s.Abandoned() {
				return
			}
			select {
			case <-wake:
			case <-ctx.Done():
				return
			}
			select {
			case <-time.After(relayEvery):
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { <-done }
}

// followStream returns a stream of run, which another process grades,
// fed from the relay.
func (x *runner) followStream(run *labs.Run) *live.Stream {
	s := live.NewStream(run.ID, true)
	s.Send(x.hello(run, true))
	x.wg.Go(func() { x.follow(s, run.ID) })
	return s
}

// followGrace is how long a follower waits for the end of a run the
// store already has finished: the grading process appends its last
// messages just after it records the result.
const followGrace = 5 * time.Second

// follow sends the relayed messages of run id to s, numbered there,
// until the run's stream ends. A later try of the run, whose stream
// starts over, abandons s: its viewers reconnect and follow that try
// instead. So does a run finished without its end relayed, after part of
// it was shown; one shown nothing is sent from its recording.
func (x *runner) follow(s *live.Stream, id string) {
	r := x.relay
	r.listen.Do(func() { x.wg.Go(x.listenRelay) })
	wake := r.subscribe(id)
	defer r.unsubscribe(id, wake)
	look := time.NewTicker(time.Second)
	defer look.Stop()
	var (
		attempt, seq  int
		shown         bool
		failing       bool // the store failed the last read, which was logged
		finishedSince time.Time
	)
	for {
		msgs, err := r.store.LiveSince(x.ctx, id, attempt, seq, relayBatch)
		switch {
		case err != nil && x.ctx.Err() == nil && !failing:
			// Once per outage, not once a second while it lasts.
			x.log.Warn("reading a relayed run; trying again every second", "run", id, "err", err)
			failing = true
		case err == nil && failing:
			x.log.Info("reading a relayed run again", "run", id)
			failing = false
		}
		for _, m := range msgs {
			if attempt != 0 && m.Attempt != attempt {
				x.abandon(s)
				return
			}
			attempt, seq = m.Attempt, m.Seq
			_, msg, err := live.Decode(m.Data)
			if err != nil {
				x.log.Warn("a relayed message is malformed", "run", id, "seq", m.Seq, "err", err)
				continue
			}
			switch msg.Type {
			case live.TypeHello: // s has its own
			case live.TypeEnd:
				s.Close()
				return
			default:
				s.Send(msg)
				shown = true
			}
		}
		if len(msgs) == relayBatch {
			continue
		}
		select {
		case <-wake:
			continue
		case <-look.C:
		case <-x.ctx.Done():
			return
		}
		st, err := x.store.RunStatus(x.ctx, id)
		switch {
		case err != nil || !st.Finished():
			finishedSince = time.Time{}
		case finishedSince.IsZero():
			finishedSince = time.Now()
		case time.Since(finishedSince) > followGrace:
			if shown {
				x.abandon(s)
				return
			}
			run, err := x.store.Run(x.ctx, id)
			if err == nil {
				err = x.replayInto(x.ctx, s, run)
			}
			if err != nil {
				x.log.Warn("showing a run graded elsewhere", "run", id, "err", err)
				s.Send(live.ErrorMsg("This run was graded, but its result could not be shown here; reload the page."))
			}
			s.Close()
			return
		}
	}
}

// abandon gives s up for the stream the run has now: its viewers
// reconnect, and the hub builds that stream for them.
func (x *runner) abandon(s *live.Stream) {
	x.hub.Drop(s)
	s.Abandon()
}

// listenRelay tells followers of the relay's notifications until the
// server stops, listening again after a failure.
func (x *runner) listenRelay() {
	r := x.relay
	pause := time.Second
	for x.ctx.Err() == nil {
		t0 := time.Now()
		err := r.store.ListenLive(x.ctx, r.notify)
		if x.ctx.Err() != nil {
			return
		}
		x.log.Warn("listening for relayed runs; followers look every second meanwhile", "err", err)
		if time.Since(t0) > time.Minute {
			pause = time.Second
		}
		select {
		case <-time.After(pause):
		case <-x.ctx.Done():
			return
		}
		pause = min(2*pause, 30*time.Second)
	}
}

func (r *relay) subscribe(id string) chan struct{} {
	c := make(chan struct{}, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wakeup[id] == nil {
		r.wakeup[id] = make(map[chan struct{}]bool)
	}
	r.wakeup[id][c] = true
	return c
}

func (r *relay) unsubscribe(id string, c chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.wakeup[id], c)
	if len(r.wakeup[id]) == 0 {
		delete(r.wakeup, id)
	}
}

// notify wakes the followers of run id; one already woken stays so.
func (r *relay) notify(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.wakeup[id] {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}
