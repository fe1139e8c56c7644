// Command mmapbomb maps 16 GiB of anonymous memory (which succeeds: only
// touched pages count) and touches it page by page until the memory limit
// kills it.
package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	b, err := unix.Mmap(-1, 0, 16<<30, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE|unix.MAP_NORESERVE)
	if err != nil {
		fmt.Println("mmap", err)
		os.Exit(3)
	}
	fmt.Println("mapped 16 GiB")
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	fmt.Println("touched it all")
}
