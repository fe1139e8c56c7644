package labs

import (
	"testing"
	"time"
)

func TestRunIDs(t *testing.T) {
	now := time.Date(2026, 12, 4, 18, 5, 9, 0, time.FixedZone("x", 3600))
	id := NewRunID(now)
	if !ValidRunID(id) || id[:15] != "20261204-170509" {
		t.Errorf("NewRunID = %q, want a valid id starting with the UTC time 20261204-170509", id)
	}
	if again := NewRunID(now); again == id {
		t.Errorf("two NewRunID at one time are both %q", id)
	}
	for _, bad := range []string{"", "20261204-170509", "20261204-170509-0123456", "20261204-170509-0123456G",
		"../20261204-170509-01234567", "20261204-170509-01234567\n", "2026-12-04-170509-01234567"} {
		if ValidRunID(bad) {
			t.Errorf("ValidRunID(%q) = true", bad)
		}
	}
}
