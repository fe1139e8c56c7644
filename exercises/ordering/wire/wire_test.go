package wire

import "testing"

func TestClassify(t *testing.T) {
	zero := make([]byte, 16)
	tests := []struct {
		name string
		b    []byte
		want Outcome
	}{
		{"second over first", Want, SecondWins},
		{"first last", First, FirstWins},
		{"nothing written", zero, Missing},
		{"second alone", append(append([]byte{}, Second...), zero[:8]...), Missing},
		{"torn", []byte("BBBBAAAAAAAAAAAA"), Torn},
	}
	for _, tc := range tests {
		if got := Classify(tc.b); got != tc.want {
			t.Errorf("Classify(%s) = %v, want %v", Show(tc.b), got, tc.want)
		}
	}
}
