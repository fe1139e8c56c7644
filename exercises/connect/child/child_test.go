package child

import (
	"errors"
	"testing"

	"github.com/asynclab/asynclab/engine/sys"
)

func TestErrName(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{sys.ECONNREFUSED, "ECONNREFUSED"},
		{sys.ETIMEDOUT, "ETIMEDOUT"},
		{sys.EAGAIN, "EAGAIN (resource temporarily unavailable)"},
		{sys.Errno(4095), "errno 4095 (errno 4095)"},
		{errors.New("gave up"), "gave up"},
	} {
		if got := errName(tc.err); got != tc.want {
			t.Errorf("errName(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
