// Command int80 makes an i386 system call through int 0x80, which a
// filter checking only x86_64 numbers would let through: the seccomp
// filter must kill it.
package main

import "fmt"

func main() {
	fmt.Println("calling int 0x80")
	fmt.Println("getpid via int 0x80 =", int80())
}
