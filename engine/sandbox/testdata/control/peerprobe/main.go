// Command peerprobe talks to the peer and then tries to reach it by other
// means: it prints its network namespace, sends a line to the address it
// is given, kills every process it can and counts the processes it sees.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/asynclab/asynclab/engine/sandbox/testdata/internal/report"
)

func main() {
	ns, _ := os.Readlink("/proc/self/ns/net")
	report.Text("netns", ns)
	c, err := net.Dial("tcp", os.Args[1])
	if err != nil {
		report.Line("dial", err)
		os.Exit(1)
	}
	fmt.Fprintln(c, "hello from the box")
	reply, err := bufio.NewReader(c).ReadString('\n')
	report.Line("read", err)
	report.Text("reply", reply[:max(len(reply)-1, 0)])
	server, _ := strconv.Atoi(os.Args[2])
	report.Line("kill server", syscall.Kill(server, syscall.SIGKILL))
	report.Line("kill -1", syscall.Kill(-1, syscall.SIGKILL))
	ents, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, e.Name())
		}
	}
	report.Text("pids", fmt.Sprint(pids))
	fmt.Fprintln(c, "still here")
	c.Close()
}
