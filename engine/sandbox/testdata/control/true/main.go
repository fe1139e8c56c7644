// Command true does nothing, for measuring the sandbox's own cost.
package main

func main() {}
