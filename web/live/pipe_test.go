package live

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// read takes every message of src, as Serve does, until its end or the
// deadline, and returns their types in order.
func read(t *testing.T, src Source) []string {
	t.Helper()
	var types []string
	pos := 0
	deadline := time.After(10 * time.Second)
	for {
		msgs, done, wake := src.Since(pos, 256)
		for _, m := range msgs {
			var h struct {
				Seq  int    `json:"seq"`
				Type string `json:"type"`
			}
			if err := json.Unmarshal(m, &h); err != nil {
				t.Fatalf("message %d: %v", pos+1, err)
			}
			pos++
			if h.Seq != pos {
				t.Fatalf("message %d has seq %d", pos, h.Seq)
			}
			types = append(types, h.Type)
		}
		if done {
			return types
		}
		if len(msgs) > 0 {
			continue
		}
		select {
		case <-wake:
		case <-deadline:
			t.Fatalf("the pipe did not end; %d messages so far", pos)
		}
	}
}

func TestPipe(t *testing.T) {
	boom := errors.New("the store went away")
	tests := []struct {
		name    string
		produce func(ctx context.Context, p *Pipe) error
		want    []string // message types, in order
	}{
		{"messages then the end", func(ctx context.Context, p *Pipe) error {
			for range 3 {
				p.Send(ctx, NoticeMsg("hi"))
			}
			return nil
		}, []string{"notice", "notice", "notice", "end"}},
		{"an error is said before the end", func(ctx context.Context, p *Pipe) error {
			p.Send(ctx, NoticeMsg("hi"))
			return boom
		}, []string{"notice", "error", "end"}},
		{"a panic is an error", func(ctx context.Context, p *Pipe) error {
			panic("a bad recording")
		}, []string{"error", "end"}},
		{"nothing at all", func(ctx context.Context, p *Pipe) error { return nil }, []string{"end"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPipe(context.Background(), "r", 1<<10, tt.produce)
			defer p.Stop()
			if got := read(t, p); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("the pipe says %v, want %v", got, tt.want)
			}
		})
	}
}

// A producer far ahead of its reader waits: the pipe holds its window of
// unread messages (and one more), never the whole replay, and the reader
// still gets every message in order.
func TestPipeHoldsOnlyItsWindow(t *testing.T) {
	const window, n = 64 << 10, 2000
	big := strings.Repeat("x", 1000)
	sent := make(chan int, 1)
	p := NewPipe(context.Background(), "r", window, func(ctx context.Context, p *Pipe) error {
		k := 0
		for ; k < n && p.Send(ctx, NoticeMsg(big)); k++ {
		}
		sent <- k
		return nil
	})
	defer p.Stop()
	var held, last int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		p.mu.Lock()
		held = p.bytes
		p.mu.Unlock()
		if l := p.Len(); l == last && l > 0 {
			break // the producer waits
		} else {
			last = l
		}
	}
	if held > window+2<<10 {
		t.Errorf("the pipe holds %d bytes unread, more than its window of %d and one message", held, window)
	}
	if p.Len() >= n {
		t.Fatalf("the producer made all %d messages without a reader", n)
	}
	if got := read(t, p); len(got) != n+1 || got[n] != "end" {
		t.Errorf("the reader got %d messages ending with %q, want %d and the end", len(got), got[len(got)-1], n+1)
	}
	if k := <-sent; k != n {
		t.Errorf("the producer sent %d of %d", k, n)
	}
}

// When the viewer goes, the producer's sends fail and it stops.
func TestPipeStop(t *testing.T) {
	stopped := make(chan int, 1)
	p := NewPipe(context.Background(), "r", 1<<10, func(ctx context.Context, p *Pipe) error {
		k := 0
		for p.Send(ctx, NoticeMsg(strings.Repeat("y", 512))) {
			k++
		}
		stopped <- k
		return ctx.Err()
	})
	time.Sleep(20 * time.Millisecond)
	p.Stop()
	select {
	case k := <-stopped:
		if k > 10 {
			t.Errorf("the producer sent %d messages into a 1 KiB window nobody read", k)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the producer did not stop when its viewer went")
	}
}
