package wire

import (
	"testing"

	"github.com/asynclab/asynclab/engine/uring"
)

// TestFlags checks the IOSQE numbers the checks read against the engine's.
func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"drain", FlagDrain, int(uring.SQEIODrain)},
		{"link", FlagLink, int(uring.SQEIOLink)},
		{"hardlink", FlagHardlink, int(uring.SQEIOHardlink)},
		{"async", FlagAsync, int(uring.SQEAsync)},
	} {
		if tc.got != tc.want {
			t.Errorf("Flag %s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}
