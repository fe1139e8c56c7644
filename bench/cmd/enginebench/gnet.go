package main

import (
	"context"
	"fmt"
	"os"

	"github.com/panjf2000/gnet/v2"

	"github.com/asynclab/asynclab/internal/bench/enginebench"
)

// gnetServer is the gnet v2 echo baseline: one event loop on a locked OS
// thread, level-triggered epoll, writing back whatever it read.
var gnetServer = enginebench.Server{Name: "gnet", Serve: serveGnet}

type gnetEcho struct {
	gnet.BuiltinEventEngine
}

// OnTraffic echoes everything that has arrived on c.
func (*gnetEcho) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	c.Write(buf)
	return gnet.None
}

func serveGnet(ctx context.Context, cfg enginebench.ServeConfig) error {
	err := gnet.Run(new(gnetEcho), fmt.Sprintf("tcp://127.0.0.1:%d", cfg.Port),
		gnet.WithMulticore(false),
		gnet.WithNumEventLoop(1),
		gnet.WithLockOSThread(true),
		gnet.WithReuseAddr(true),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(errorsOnly{}),
	)
	if err != nil {
		return fmt.Errorf("gnet: %w", err)
	}
	return nil
}

// errorsOnly is a gnet logger that keeps the launch banner and other
// chatter out of the benchmark's output.
type errorsOnly struct{}

func (errorsOnly) Debugf(string, ...any) {}
func (errorsOnly) Infof(string, ...any)  {}
func (errorsOnly) Warnf(string, ...any)  {}
func (errorsOnly) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gnet: "+format+"\n", args...)
}
func (errorsOnly) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gnet: "+format+"\n", args...)
	os.Exit(1)
}
