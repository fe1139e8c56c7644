//go:build linux && !amd64 && !arm64

package sandbox

// auditArch is zero: the filter is written for amd64 and arm64 only, and
// Run refuses to run a program without it.
const auditArch = 0

const x32Bit = 0

var archAllowed []uint32
