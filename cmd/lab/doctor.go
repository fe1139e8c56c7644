package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/asynclab/asynclab/engine/uring"
)

// doctorCmd is `lab doctor`: what this host lets the lab use.
type doctorCmd struct{}

func (doctorCmd) run(ctx context.Context, m *Main) error {
	st := uring.Check()
	w := m.Stdout
	if st.Available {
		fmt.Fprintf(w, "ok    io_uring: available (features %#x)\n", st.Features)
	} else {
		fmt.Fprintf(w, "MISS  io_uring: %s\n", st.Reason)
		fmt.Fprintln(w, "      the lab falls back to epoll and says so; io_uring exercises cannot run")
	}
	if st.Sysctl != "" {
		fmt.Fprintf(w, "      kernel.io_uring_disabled = %s\n", st.Sysctl)
	}
	if len(st.Missing) > 0 {
		var names []string
		for _, op := range st.Missing {
			names = append(names, op.String())
		}
		fmt.Fprintf(w, "MISS  io_uring opcodes: %s\n", strings.Join(names, ", "))
	}
	return nil
}
