package live_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/asynclab/asynclab/web/live"
)

func TestParseClientMessage(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr string // a part of the error; "" for none
	}{
		{`{"type":"resume","after":0}`, 0, ""},
		{`{"type":"resume","after":41}`, 41, ""},
		{`{"after":7,"type":"resume"}`, 7, ""},
		{" \t\n{ \"type\" : \"resume\" , \"after\" : 3 }\r\n ", 3, ""},
		{`{"type":"resume","after":9223372036854775807}`, 9223372036854775807, ""},

		{``, 0, "not a JSON message"},
		{`resume`, 0, "not a JSON message"},
		{`[]`, 0, "not a JSON message"},
		{`[{"type":"resume","after":1}]`, 0, "not a JSON message"},
		{`null`, 0, "unknown message type"},
		{`{}`, 0, "unknown message type"},
		{`{"type":"Resume","after":1}`, 0, "unknown message type"},
		{`{"type":"subscribe","after":1}`, 0, "unknown message type"},
		{`{"after":1}`, 0, "unknown message type"},
		{`{"type":"resume"}`, 0, `needs "after"`},
		{`{"type":"resume","after":null}`, 0, `needs "after"`},
		{`{"type":"resume","after":-1}`, 0, "must be 0 or more"},
		{`{"type":"resume","after":1.5}`, 0, "not a JSON message"},
		{`{"type":"resume","after":1e3}`, 0, "not a JSON message"},
		{`{"type":"resume","after":"1"}`, 0, "not a JSON message"},
		{`{"type":"resume","after":9223372036854775808}`, 0, "not a JSON message"},
		{`{"type":"resume","after":1,"from":2}`, 0, "not a JSON message"},
		{`{"type":"resume","after":1`, 0, "not a JSON message"},
		{`{"type":"resume","after":1}{"type":"resume","after":2}`, 0, "one JSON object"},
		{`{"type":"resume","after":1} 2`, 0, "one JSON object"},
		{`{"type":"resume","after":1}]`, 0, "one JSON object"},
		{`{"type":"resume","after":1}}`, 0, "one JSON object"},
		{`{"type":"resume","after":1},`, 0, "one JSON object"},
	}
	for _, tt := range tests {
		got, err := live.ParseClientMessage([]byte(tt.in))
		switch {
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("ParseClientMessage(%q) = %d, %v; want %d, nil", tt.in, got, err, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseClientMessage(%q) = %d, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
		}
	}
}

// FuzzParseClientMessage checks that ParseClientMessage never panics and
// accepts only one JSON object that is a resume after a seq of 0 or more:
// its canonical encoding must parse to the same seq.
func FuzzParseClientMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"resume","after":0}`,
		`{"type":"resume","after":12}`,
		` {"after":3,"type":"resume"} `,
		`{"type":"resume","after":-1}`,
		`{"type":"resume"}`,
		`{"type":"resume","after":1}]`,
		`{"type":"resume","after":1}{}`,
		`[1]`,
		`"\u0000"`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		after, err := live.ParseClientMessage(b)
		if err != nil {
			if err.Error() == "" {
				t.Errorf("ParseClientMessage(%q) failed with an empty message", b)
			}
			return
		}
		if after < 0 {
			t.Fatalf("ParseClientMessage(%q) = %d, want a seq of 0 or more", b, after)
		}
		if !json.Valid(b) {
			t.Fatalf("ParseClientMessage(%q) = %d, nil; but it is not one JSON value", b, after)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			t.Fatalf("ParseClientMessage(%q) = %d, nil; but it is not a JSON object: %v", b, after, err)
		}
		canon, err := json.Marshal(live.ClientMessage{Type: "resume", After: &after})
		if err != nil {
			t.Fatal(err)
		}
		if again, err := live.ParseClientMessage(canon); err != nil || again != after {
			t.Fatalf("ParseClientMessage(%q) = %d, nil; its re-encoding %s parses as %d, %v", b, after, canon, again, err)
		}
	})
}
