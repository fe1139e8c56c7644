// Command sleeper sleeps forever: the wall-clock limit must end it.
package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("sleeping")
	time.Sleep(time.Hour)
}
