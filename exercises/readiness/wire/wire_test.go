package wire

import (
	"bytes"
	"slices"
	"testing"
)

func TestDigest(t *testing.T) {
	msg := bytes.Repeat([]byte("0123456789"), Size/10)
	changed := slices.Clone(msg)
	changed[2*Packet+7] ^= 1
	tests := []struct {
		name  string
		msg   []byte
		n     int
		sums  int
		equal bool // the digest equals msg's
	}{
		{"whole", msg, Size, Packets, true},
		{"one packet", msg[:Packet], Packet, 1, false},
		{"a packet and a bit", msg[:Packet+1], Packet + 1, 2, false},
		{"empty", nil, 0, 0, false},
		{"a byte changed", changed, Size, Packets, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Digest(tt.msg)
			n, sums, ok := ParseDigest(d)
			if !ok || n != tt.n || len(sums) != tt.sums {
				t.Errorf("ParseDigest(Digest(msg)) = %d, %d sums, %v; want %d, %d sums, true (digest %q)", n, len(sums), ok, tt.n, tt.sums, d)
			}
			if got := d == Digest(msg); got != tt.equal {
				t.Errorf("Digest(%s) == Digest(whole) is %v, want %v", tt.name, got, tt.equal)
			}
		})
	}
	_, sums, _ := ParseDigest(Digest(changed))
	_, want, _ := ParseDigest(Digest(msg))
	for i := range want {
		if (sums[i] != want[i]) != (i == 2) {
			t.Errorf("slice %d: changed %v, want a change in slice 2 only", i, sums[i] != want[i])
		}
	}
}

func TestParseDigestRejects(t *testing.T) {
	for _, s := range []string{"", "error EAGAIN", "x bytes: ab", "-1 bytes:", "8000bytes: ab"} {
		if _, _, ok := ParseDigest(s); ok {
			t.Errorf("ParseDigest(%q) ok, want not a digest", s)
		}
	}
}
