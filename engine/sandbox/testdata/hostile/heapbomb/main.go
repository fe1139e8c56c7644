// Command heapbomb allocates and touches the Go heap until the memory
// limit kills it.
package main

import "fmt"

var keep [][]byte

func main() {
	for i := 0; ; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		keep = append(keep, b)
		if i%64 == 0 {
			fmt.Println("MiB", i)
		}
	}
}
