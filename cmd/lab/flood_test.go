package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// floodEnv makes the test binary a client that opens idle connections:
// "ADDR COUNT SOURCE-IP". It prints how many it holds, then holds them
// until killed.
const floodEnv = "LAB_TEST_FLOOD"

func init() {
	spec := os.Getenv(floodEnv)
	if spec == "" {
		return
	}
	f := strings.Fields(spec)
	n, _ := strconv.Atoi(f[1])
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(f[2])}, Timeout: 5 * time.Second}
	var mu sync.Mutex
	var held []net.Conn
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range n / 16 {
				c, err := d.Dial("tcp", f[0])
				if err != nil {
					continue
				}
				mu.Lock()
				held = append(held, c)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	fmt.Printf("held %d\n", len(held))
	select {}
}

// Twenty thousand idle connections from one address, in two processes (a
// process here may open twenty thousand files in all), do not stop a
// student elsewhere from loading a page: the address gets its share, the
// rest are closed as they come.
func TestIdleConnectionFlood(t *testing.T) {
	s := startServer(t, t.TempDir())
	addr := strings.TrimPrefix(s.base, "http://")
	held := 0
	start := time.Now()
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), floodEnv+"="+addr+" 10000 127.0.0.2")
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "held ") {
			t.Fatalf("a flooding client said %q, %v", line, err)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "held ")))
		held += n
		go io.Copy(io.Discard, out)
	}
	t.Logf("the clients opened %d connections in %s", held, time.Since(start).Round(time.Millisecond))
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(s.base + "/exercises/connect")
	if err != nil {
		t.Fatalf("a page during the flood: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "data-csrf") {
		t.Errorf("the exercise page during the flood = %d, %d bytes", resp.StatusCode, len(page))
	}
	resp, err = c.Get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var refused float64
	for _, l := range strings.Split(string(metrics), "\n") {
		if v, ok := strings.CutPrefix(l, "asynclab_connections_refused_total "); ok {
			refused, _ = strconv.ParseFloat(v, 64)
		}
	}
	// The address may hold 256 at a time, and a connection that sends no
	// request is closed after the 10 s header timeout, making room for
	// 256 more: every other one was refused.
	rounds := 1 + int(time.Since(start)/(10*time.Second))
	if want := held - 256*rounds; refused < float64(want) {
		t.Errorf("the server refused %g connections, want at least %d of the %d opened", refused, want, held)
	}
}
