// Command hugefile writes past RLIMIT_FSIZE three ways: a long write, a
// sparse write far out and a truncate far out.
package main

import (
	"fmt"
	"os"

	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/report"
)

func main() {
	f, err := os.Create("/tmp/big")
	if err != nil {
		report.Line("create", err)
		return
	}
	chunk := make([]byte, 64<<10)
	var total int64
	for err == nil && total < 1<<30 {
		var n int
		n, err = f.Write(chunk)
		total += int64(n)
	}
	report.Line("write", err)
	report.Text("written", fmt.Sprint(total))
	_, err = f.WriteAt([]byte{1}, 1<<40)
	report.Line("sparse", err)
	report.Line("truncate", f.Truncate(1<<40))
}
