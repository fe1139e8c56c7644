package demo_test

import (
	"context"
	"testing"

	"github.com/asynclab/asynclab/engine"
	"github.com/asynclab/asynclab/engine/demo"
	"github.com/asynclab/asynclab/engine/trace"
	"github.com/asynclab/asynclab/engine/uring"
)

func TestDemo(t *testing.T) {
	tests := []struct {
		kind                       engine.Kind
		wantWakeups, wantCompletes int
	}{
		{engine.Epoll, 5, 0},
		{engine.Uring, 1, 1},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			if st := uring.Check(); tt.kind == engine.Uring && !st.Available {
				t.Skipf("io_uring unavailable on this kernel: %s", st.Reason)
			}
			res, err := demo.Run(context.Background(), tt.kind)
			if err != nil {
				t.Fatal(err)
			}
			if res.Backend != tt.kind {
				t.Fatalf("ran on %s (fallback: %s), want %s", res.Backend, res.Fallback, tt.kind)
			}
			if res.Received != demo.Packets*demo.PacketSize {
				t.Errorf("received %d bytes, want %d", res.Received, demo.Packets*demo.PacketSize)
			}
			var wakeups, recvs int
			for _, e := range res.Trace.Events {
				switch {
				case e.Kind == trace.KindWakeup:
					wakeups++
				case e.Kind == trace.KindComplete && res.Trace.Name(e.Name) == "RECV":
					recvs++
				}
			}
			if wakeups != tt.wantWakeups || recvs != tt.wantCompletes {
				t.Errorf("wakeups, RECV completions = %d, %d; want %d, %d", wakeups, recvs, tt.wantWakeups, tt.wantCompletes)
			}
		})
	}
}
