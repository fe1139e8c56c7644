// Command flood writes to stdout (or to the file descriptor named by its
// argument) forever.
package main

import (
	"os"
	"strconv"
)

func main() {
	fd := 1
	if len(os.Args) > 1 {
		fd, _ = strconv.Atoi(os.Args[1])
	}
	f := os.NewFile(uintptr(fd), "out")
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	for {
		if _, err := f.Write(b); err != nil {
			os.Exit(3)
		}
	}
}
