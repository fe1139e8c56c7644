package readiness

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/asynclab/asynclab/engine/sandbox"
	"github.com/asynclab/asynclab/exercises"
	"github.com/asynclab/asynclab/exercises/readiness/wire"
)

// What the peer records in a run's observations.
const (
	obsMessage = "message"    // wire.Digest of the message, once the harness said go
	obsSent    = "sent"       // "all" once every packet went out
	obsMinGap  = "min-gap-us" // the shortest pause between two packets, in µs (paced only)
	obsPeer    = "peer"       // why the peer did not send, if it did not
)

// peer listens on the scenario's port, waits for the harness's "go", and
// sends a fresh random message in wire.Packets packets of wire.Packet
// bytes, each after a pause of gap (none when gap is 0), with Nagle's
// algorithm off so that each write leaves as its own segment. It keeps the
// connection open until the run ends: a close would be one more event on
// the socket, and the lesson is the packets.
func peer(gap time.Duration) func(context.Context, *sandbox.NetNS, map[string]string, *exercises.Observations) error {
	return func(ctx context.Context, ns *sandbox.NetNS, params map[string]string, obs *exercises.Observations) error {
		ln, err := ns.Listen("tcp", net.JoinHostPort("127.0.0.1", params[wire.ParamPort]))
		if err != nil {
			return fmt.Errorf("readiness peer: %w", err)
		}
		ns.Ready()
		go func() { <-ctx.Done(); ln.Close() }()
		c, err := ln.Accept()
		if err != nil {
			obs.Set(obsPeer, "no connection came: "+err.Error())
			return nil
		}
		defer c.Close()
		go func() { <-ctx.Done(); c.Close() }()
		if err := send(c, gap, obs); err != nil {
			obs.Set(obsPeer, err.Error())
			return nil
		}
		<-ctx.Done()
		return nil
	}
}

// send waits for the go byte and sends the message.
func send(c net.Conn, gap time.Duration, obs *exercises.Observations) error {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	if _, err := c.Read(b[:]); err != nil || b[0] != wire.Go {
		return fmt.Errorf("the harness never said go (%v)", err)
	}
	msg := make([]byte, wire.Size)
	rand.Read(msg)
	// Before the packets: a handler that answers early makes the harness
	// close the connection, and the rest never goes out.
	obs.Set(obsMessage, wire.Digest(msg))
	minGap := time.Duration(-1)
	last := time.Now()
	for i := range wire.Packets {
		// A pause after the previous write, not a schedule: a peer the
		// machine ran late never sends two packets closer than gap.
		if gap > 0 {
			time.Sleep(gap)
			if d := time.Since(last); i > 0 && (minGap < 0 || d < minGap) {
				minGap = d
			}
		}
		if _, err := c.Write(msg[i*wire.Packet : (i+1)*wire.Packet]); err != nil {
			return fmt.Errorf("packet %d: %w", i+1, err)
		}
		last = time.Now()
	}
	if minGap >= 0 {
		obs.Set(obsMinGap, strconv.FormatInt(minGap.Microseconds(), 10))
	}
	obs.Set(obsSent, "all")
	return nil
}
