// Command mem64 is a correct program that needs some room: it allocates
// and touches 64 MiB and runs 50 goroutines.
package main

import (
	"fmt"
	"sync"
)

func main() {
	b := make([]byte, 64<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = byte(i / 4096)
	}
	var wg sync.WaitGroup
	sums := make([]int, 50)
	for g := range 50 {
		wg.Go(func() {
			for i := g * 4096; i < len(b); i += 50 * 4096 {
				sums[g] += int(b[i])
			}
		})
	}
	wg.Wait()
	total := 0
	for _, s := range sums {
		total += s
	}
	fmt.Println("touched 64 MiB with 50 goroutines, sum", total)
}
