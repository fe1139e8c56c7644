// Command cpuspin spins on every CPU it can get.
package main

import "fmt"

var sink [8]uint64

func main() {
	fmt.Println("spinning")
	for g := 0; g < 4; g++ {
		go func() {
			for {
				sink[g]++
			}
		}()
	}
	for {
		sink[7]++
	}
}
