package main

import (
	"context"
	"fmt"

	"github.com/asynclab/asynclab/engine/sandbox"
)

// doctorCmd is `lab doctor`: what this host lets the lab use, what each item
// means, and how to fix what is missing.
type doctorCmd struct{}

func (doctorCmd) run(ctx context.Context, m *Main) error {
	w := m.Stdout
	checks := sandbox.Doctor()
	for _, c := range checks {
		mark := "ok  "
		switch {
		case !c.OK && c.Required:
			mark = "FAIL"
		case !c.OK:
			mark = "warn"
		}
		fmt.Fprintf(w, "%s  %s: %s\n", mark, c.Name, c.Detail)
		if !c.OK && c.Fix != "" {
			fmt.Fprintf(w, "      fix: %s\n", c.Fix)
		}
	}
	if err := sandbox.Missing(checks); err != nil {
		fmt.Fprintf(w, "\nthe lab will NOT grade on this host: %v\n", err)
		return nil
	}
	fmt.Fprintln(w, "\nthe sandbox has everything it needs: submissions can be graded here")
	return nil
}
