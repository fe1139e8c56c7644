//go:build !amd64

package main

// int80 has no i386 gate to call off amd64.
func int80() int64 { return -1 }
