// Command trace writes hostile bytes to the trace pipe, fd 3: "flood"
// writes a pattern forever; "garbage" writes every byte value and exits;
// "closed" closes fd 3 and exits; "hold" writes "hello" and sleeps until it
// is killed.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	f := os.NewFile(3, "trace")
	switch os.Args[1] {
	case "flood":
		b := make([]byte, 64<<10)
		for i := range b {
			b[i] = byte(i * 7)
		}
		for {
			if _, err := f.Write(b); err != nil {
				os.Exit(3)
			}
		}
	case "garbage":
		b := make([]byte, 4096)
		for i := range b {
			b[i] = byte(i*131 + i/256)
		}
		n, err := f.Write(b)
		fmt.Println(n, err)
	case "hold":
		f.Write([]byte("hello"))
		time.Sleep(time.Hour)
	case "closed":
		fmt.Println(f.Close())
	}
}
