//go:build !linux

package sandbox

import (
	"context"
	"errors"
	"net"
	"runtime"
)

var errUnsupported = errors.New("sandbox: needs Linux; this is " + runtime.GOOS)

// NetNS is the network namespace of a running box; it exists only on
// Linux.
type NetNS struct{}

// Do returns an error: there is no box off Linux.
func (ns *NetNS) Do(fn func() error) error { return errUnsupported }

// Listen returns an error: there is no box off Linux.
func (ns *NetNS) Listen(network, addr string) (net.Listener, error) { return nil, errUnsupported }

// Dial returns an error: there is no box off Linux.
func (ns *NetNS) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return nil, errUnsupported
}

// Ready does nothing off Linux.
func (ns *NetNS) Ready() {}

// Run returns an error: the sandbox needs Linux.
func Run(ctx context.Context, spec Spec) (*Result, error) { return nil, errUnsupported }

// IsInit reports false: no box is started off Linux.
func IsInit() bool { return false }

// InitMain panics: it is never called off Linux.
func InitMain() { panic(errUnsupported) }

// Cleanup has nothing to clean off Linux.
func Cleanup() (int, error) { return 0, nil }

// BoxIDs returns the zero range: there are no boxes off Linux.
func BoxIDs() IDRange { return IDRange{} }

// SetIDRange returns an error: the sandbox needs Linux.
func SetIDRange(r IDRange) error { return errUnsupported }

// ReadFile returns an error off Linux.
func ReadFile(dir, name string, max int64) ([]byte, error) { return nil, errUnsupported }

// Doctor reports that the sandbox needs Linux.
func Doctor() []Check {
	return []Check{{Name: "linux", Required: true, Detail: errUnsupported.Error(), Fix: "run the server on Linux 6.1 or later"}}
}

// Ready returns an error: the sandbox needs Linux.
func Ready() error { return errUnsupported }
