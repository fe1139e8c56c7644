package livebench

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/asynclab/asynclab/web/live"
)

func TestBatchSize(t *testing.T) {
	for _, size := range []int{1 << 10, 8 << 10, 64 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			s := live.NewStream("r", false)
			b, err := newBatch(size)
			if err != nil {
				t.Fatalf("newBatch(%d) = %v", size, err)
			}
			for i := range 3 {
				msg, err := b.next(12345)
				if err != nil {
					t.Fatalf("next() for message %d = %v", i+1, err)
				}
				s.Send(msg)
				msgs, _, _ := s.Since(i, 1)
				m := msgs[0]
				if len(m) < size*9/10 || len(m) > size*11/10 {
					t.Errorf("message %d has %d bytes, want about %d", i+1, len(m), size)
				}
				var e struct {
					Type     string  `json:"type"`
					AppendNS int64   `json:"append_ns"`
					Events   [][]any `json:"events"`
				}
				if err := json.Unmarshal(m, &e); err != nil {
					t.Fatalf("message %d is not JSON: %v", i+1, err)
				}
				if e.Type != "events" || e.AppendNS != 12345 || len(e.Events) == 0 {
					t.Fatalf("message %d = type %q, append_ns %d, %d events; want events, 12345, some", i+1, e.Type, e.AppendNS, len(e.Events))
				}
				for _, ev := range e.Events {
					if len(ev) != 12 {
						t.Fatalf("message %d has an event of %d fields, want 12: %v", i+1, len(ev), ev)
					}
				}
			}
		})
	}
}
