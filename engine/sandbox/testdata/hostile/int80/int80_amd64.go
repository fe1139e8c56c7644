package main

// int80 calls getpid (20) through the i386 system call gate.
func int80() int64
