// Command logcrash writes a log of the given size to stderr, through a
// buffer as a busy handler's logger would, then ends as its second
// argument says: "panic" panics, "exit" exits 0. "dump-slowly D" begins
// a crash's dump, and ends it, exiting 2 as a crash does, D later, as a
// box kept off the CPU would; "dump-forever" begins one and then spins.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"time"
)

const dumpHead = "panic: boom after the log\n\ngoroutine 1 [running]:\nmain.main()\n"

func main() {
	size, _ := strconv.Atoi(os.Args[1])
	w := bufio.NewWriterSize(os.Stderr, 4096)
	for n, i := 0, 0; n < size; i++ {
		k, _ := fmt.Fprintf(w, "handled request %d\n", i)
		n += k
	}
	fmt.Fprintln(w, "last words")
	w.Flush()
	switch os.Args[2] {
	case "panic":
		panic("boom after the log")
	case "dump-slowly":
		d, _ := time.ParseDuration(os.Args[3])
		os.Stderr.WriteString(dumpHead)
		time.Sleep(d)
		os.Stderr.WriteString("\t/box/main.go:30 +0x1d\nexit status 2\n")
		os.Exit(2)
	case "dump-forever":
		os.Stderr.WriteString(dumpHead)
		for {
		}
	}
}
