// Package wire is what the readiness harness, its trusted peer and its
// checks agree on: the message's shape, the scenario parameters, and how
// the harness writes the handler's answer. It is a leaf, so that the
// grader's side builds on any platform.
package wire

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// The message: Packets packets of Packet bytes, Size bytes in all. Chunk
// is the size of the read buffer a handler's readiness code reads into:
// smaller than a packet, so that one read never takes a whole one.
const (
	Size    = 8000
	Packets = 5
	Packet  = Size / Packets
	Chunk   = 1024
)

// Go is the byte the harness writes on the connection just before it
// starts the handler. The peer sends nothing before it, and a paced
// peer its first packet only a gap after it, so that the handler is
// listening when the first packet arrives.
const Go = 'g'

// Scenario parameters.
const (
	ParamPort = "port"
	// ParamGap is the pause before each packet; "0s" sends the five back
	// to back, and the harness then waits until all Size bytes are in the
	// socket before it starts the handler.
	ParamGap = "gap"
	// ParamTrigger is kit.ParamTrigger: "edge" makes the loop's epoll
	// edge-triggered.
	ParamTrigger = "trigger"
	TriggerEdge  = "edge"
)

// ValueFD names the harness's value that says which descriptor the
// handler was given: the connection to the peer.
const ValueFD = "fd"

// ValueWaited names the harness's value, in ns, of how long it waited for
// an unpaced message to be all in the socket before it started the
// handler; it is -1 when the bytes never all arrived.
const ValueWaited = "waited-ns"

// Digest describes msg for the grader without carrying it: its length and
// a short hash of each packet-sized slice ("8000 bytes: 1a2b... 3c4d..."),
// so that a difference can be placed in the packet it is in.
func Digest(msg []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bytes:", len(msg))
	for off := 0; off < len(msg); off += Packet {
		sum := sha256.Sum256(msg[off:min(off+Packet, len(msg))])
		b.WriteString(" " + hex.EncodeToString(sum[:6]))
	}
	return b.String()
}

// ParseDigest reads a Digest back: the length and the slices' hashes. ok
// is false when s is not one.
func ParseDigest(s string) (n int, sums []string, ok bool) {
	head, rest, found := strings.Cut(s, " bytes:")
	if !found {
		return 0, nil, false
	}
	n, err := strconv.Atoi(head)
	if err != nil || n < 0 {
		return 0, nil, false
	}
	return n, strings.Fields(rest), true
}
