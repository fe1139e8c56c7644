// Command logcrash writes a log of the given size to stderr, through a
// buffer as a busy handler's logger would, then ends as its second
// argument says: "panic" panics, "exit" exits 0.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
)

func main() {
	size, _ := strconv.Atoi(os.Args[1])
	w := bufio.NewWriterSize(os.Stderr, 4096)
	for n, i := 0, 0; n < size; i++ {
		k, _ := fmt.Fprintf(w, "handled request %d\n", i)
		n += k
	}
	fmt.Fprintln(w, "last words")
	w.Flush()
	if os.Args[2] == "panic" {
		panic("boom after the log")
	}
}
