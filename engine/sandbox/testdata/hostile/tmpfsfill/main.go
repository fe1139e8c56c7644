// Command tmpfsfill fills /tmp until the tmpfs is full, then tries the
// read-only places.
package main

import (
	"fmt"
	"os"

	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/report"
)

func main() {
	chunk := make([]byte, 256<<10) // files of 512 KiB, within RLIMIT_FSIZE
	for i := range chunk {
		chunk[i] = byte(i)
	}
	var total int64
	var err error
	for i := 0; err == nil; i++ {
		var f *os.File
		f, err = os.Create(fmt.Sprintf("/tmp/fill.%d", i))
		for j := 0; err == nil && j < 2; j++ {
			var n int
			n, err = f.Write(chunk)
			total += int64(n)
		}
		if f != nil {
			f.Close()
		}
	}
	report.Line("fill", err)
	report.Text("filled", fmt.Sprint(total))
	report.Line("root", os.WriteFile("/x", []byte("x"), 0o644))
	report.Line("box", os.WriteFile("/box/x", []byte("x"), 0o644))
	report.Line("dev", os.WriteFile("/dev/x", []byte("x"), 0o644))
}
