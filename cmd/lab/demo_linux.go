package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/asynclab/asynclab/engine/backend"
	"github.com/asynclab/asynclab/engine/demo"
	"github.com/asynclab/asynclab/engine/trace"
)

func (c *runCmd) run(ctx context.Context, m *Main) error {
	fmt.Fprintf(m.Stdout, "demo: %d packets of %d bytes, %v apart, from a trusted peer over loopback TCP\n\n",
		demo.Packets, demo.PacketSize, demo.Gap)
	var sums []string
	for _, k := range c.backends {
		res, err := demo.Run(ctx, k)
		if err != nil {
			return err
		}
		writeRun(m.Stdout, res)
		sums = append(sums, fmt.Sprintf("%s: %s", res.Backend.Name(), trace.Summarize(res.Trace)))
	}
	fmt.Fprintf(m.Stdout, "summary: %s\n", strings.Join(sums, " | "))
	return nil
}

func writeRun(w io.Writer, res *demo.Result) {
	title := map[backend.Kind]string{
		backend.Epoll: "epoll (readiness): wake on each packet, read until EAGAIN",
		backend.Uring: "io_uring (completion): one RECV with MSG_WAITALL for all 500 bytes",
	}[res.Backend]
	fmt.Fprintf(w, "== %s\n", title)
	if res.Fallback != "" {
		fmt.Fprintf(w, "   io_uring was asked for but is not usable here, so this ran on epoll: %s\n", res.Fallback)
	}
	trace.WriteText(w, res.Trace, trace.TextOptions{Kinds: timelineKinds})
	fmt.Fprintf(w, "   received %d bytes\n\n", res.Received)
}
