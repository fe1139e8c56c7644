package live

import (
	"context"
	"fmt"
	"sync"

	"github.com/asynclab/asynclab/engine/trace"
)

// Source is what [Serve] sends to a viewer: a [Stream], which keeps every
// message for any number of viewers, or a [Pipe], which one viewer reads
// as it is made.
type Source interface {
	ID() string
	// Since returns the messages after seq (at most max of them), whether
	// the source has ended with its end message, and a channel closed when
	// more arrive or it is abandoned.
	Since(seq, max int) (msgs [][]byte, done bool, wake <-chan struct{})
	// Len is the number of messages made so far.
	Len() int
	// Abandoned says the run goes on elsewhere: the viewer is to reconnect.
	Abandoned() bool
	// Replayed says the numbering need not match one a client holds from
	// an earlier connection, so a resuming client starts over.
	Replayed() bool
}

// Replayed reports whether s was rebuilt from a recording (see [NewStream]).
func (s *Stream) Replayed() bool { return s.replayed }

// Pipe is a replay read by one viewer as it is made: the producer appends
// and waits while the messages not yet read fill its window, so a replay of
// any size holds only the window and what the producer reads to fill it.
// Unlike a [Stream] it keeps no events cap: the whole recording is shown.
// It is safe for concurrent use by its producer and its one reader.
type Pipe struct {
	id     string
	window int // bytes of unread messages at most (one message may pass it)
	cancel context.CancelFunc

	mu    sync.Mutex
	msgs  [][]byte // unread: seqs start+1 ... start+len(msgs)
	start int
	bytes int // of msgs
	done  bool
	wake  chan struct{} // closed and replaced on every append
	room  chan struct{} // closed and replaced whenever the reader takes messages
}

// NewPipe starts produce on its own goroutine, sending the messages of run
// id to the pipe, and returns the pipe. The pipe ends with an end message
// when produce returns; an error it returns is sent first, as an error
// message. Stop the pipe when the viewer goes: produce's context is then
// cancelled and its sends return false.
func NewPipe(ctx context.Context, id string, window int, produce func(ctx context.Context, p *Pipe) error) *Pipe {
	ctx, cancel := context.WithCancel(ctx)
	p := &Pipe{id: id, window: window, cancel: cancel, wake: make(chan struct{}), room: make(chan struct{})}
	go func() {
		err := safeProduce(ctx, p, produce)
		if err != nil && ctx.Err() == nil {
			p.send(ctx, ErrorMsg("the replay could not be read: "+err.Error()))
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.appendLocked(EndMsg().encode(p.start + len(p.msgs) + 1))
		p.done = true
	}()
	return p
}

func safeProduce(ctx context.Context, p *Pipe, produce func(context.Context, *Pipe) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("building the replay panicked: %v", v)
		}
	}()
	return produce(ctx, p)
}

// Stop ends the pipe's producer: its viewer has gone.
func (p *Pipe) Stop() { p.cancel() }

// ID returns the run's id.
func (p *Pipe) ID() string { return p.id }

// Replayed is true: a pipe always numbers from the start of a recording.
func (p *Pipe) Replayed() bool { return true }

// Abandoned is false: a recording does not move.
func (p *Pipe) Abandoned() bool { return false }

// Len returns the number of messages made so far.
func (p *Pipe) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.start + len(p.msgs)
}

// Since returns the messages after seq, which the reader then holds: the
// ones up to seq are dropped and make room for the producer. A seq before
// what was dropped reads from the oldest message kept.
func (p *Pipe) Since(seq, max int) (msgs [][]byte, done bool, wake <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if drop := min(max0(seq-p.start), len(p.msgs)); drop > 0 {
		for _, m := range p.msgs[:drop] {
			p.bytes -= len(m)
		}
		p.msgs = p.msgs[drop:]
		p.start += drop
		close(p.room)
		p.room = make(chan struct{})
	}
	end := min(len(p.msgs), max)
	return p.msgs[:end:end], p.done && end == len(p.msgs), p.wake
}

// Send appends m, waiting while the window is full. It reports false, and
// appends nothing, once the viewer has gone.
func (p *Pipe) Send(ctx context.Context, m Message) bool { return p.send(ctx, m) }

func (p *Pipe) send(ctx context.Context, m Message) bool {
	for {
		p.mu.Lock()
		if len(p.msgs) == 0 || p.bytes < p.window {
			p.appendLocked(m.encode(p.start + len(p.msgs) + 1))
			p.mu.Unlock()
			return true
		}
		room := p.room
		p.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return false
		}
	}
}

// AppendBatch sends b, a decoded frame of track's trace, as events
// messages of at most [MaxBatch] events each, as [Stream.AppendBatch]
// does but with no cap. It reports false once the viewer has gone.
func (p *Pipe) AppendBatch(ctx context.Context, track string, b trace.Batch) bool {
	evs := b.Events
	names, first := b.Names, b.FirstName
	for len(evs) > 0 || len(names) > 0 {
		n := min(len(evs), MaxBatch)
		if !p.send(ctx, EventsMsg(track, first, names, evs[:n], b.Dropped)) {
			return false
		}
		evs, names = evs[n:], nil
	}
	return true
}

func (p *Pipe) appendLocked(b []byte) {
	p.msgs = append(p.msgs, b)
	p.bytes += len(b)
	close(p.wake)
	p.wake = make(chan struct{})
}
