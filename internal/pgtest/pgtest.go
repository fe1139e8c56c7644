// Package pgtest gives tests a real PostgreSQL database. The server is the
// one named by LAB_TEST_POSTGRES or, when that is unset, a throwaway
// cluster started from the PostgreSQL binaries found on the machine: its
// data lives in a temporary directory, it runs as an unprivileged user
// (root may not run postgres) and it listens on a unix socket in a private
// directory, never on TCP.
//
// A package that uses it calls [Main] from its TestMain, which stops the
// cluster and removes it when the tests are done, and [Database] in each
// test that wants a fresh database. With neither the variable nor the
// binaries, Database skips the test saying so, except under CI=true, where
// a skipped database test would hide a broken setup and it fails instead.
package pgtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable holding the URL of a PostgreSQL server for
// tests, e.g. postgres:///postgres?host=/tmp/lab-pg-socket. Its role must
// be allowed to create databases.
const EnvURL = "LAB_TEST_POSTGRES"

// server is where the tests' databases are made.
type server struct {
	url  string // of the maintenance database, where databases are created
	skip string // why there is no server; "" when there is one
	err  error  // why the server could not be started

	// A cluster of our own, to stop at the end; dir is "" for one named by
	// EnvURL.
	dir, pgctl string
	cred       *syscall.Credential // who runs it; nil for the current user
}

var (
	once sync.Once
	srv  *server
	seq  atomic.Int64
)

// get returns the server, starting a cluster the first time if need be.
func get() *server {
	once.Do(func() { srv = start() })
	return srv
}

// Main runs the tests of m and exits with their status, after stopping the
// cluster started for them, if any.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain with more to do: it runs the tests, stops the
// cluster and returns the status to exit with.
func Run(m *testing.M) int {
	code := m.Run()
	if srv != nil {
		if err := srv.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Database creates a new, empty database for tb, dropped when tb ends, and
// returns its URL. Without a server it skips tb, or fails it under CI=true.
func Database(tb testing.TB) string {
	tb.Helper()
	s := get()
	switch {
	case s.skip != "" && os.Getenv("CI") == "true":
		tb.Fatalf("%s (in CI a skipped database test is a failure)", s.skip)
	case s.skip != "":
		tb.Skip(s.skip)
	case s.err != nil:
		tb.Fatalf("pgtest: %v", s.err)
	}
	ctx := context.Background()
	name := fmt.Sprintf("lab_test_%d_%d", os.Getpid(), seq.Add(1))
	if err := s.admin(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		// FORCE ends the sessions a test left open, such as a killed
		// child's.
		if err := s.admin(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(s.url)
	if err != nil {
		tb.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// admin runs one statement on the maintenance database.
func (s *server) admin(ctx context.Context, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// start finds the server: EnvURL, or a new cluster.
func start() *server {
	if u := os.Getenv(EnvURL); u != "" {
		if _, err := url.Parse(u); err != nil || !strings.HasPrefix(u, "postgres") {
			return &server{err: fmt.Errorf("%s=%q: want a postgres:// URL", EnvURL, u)}
		}
		return &server{url: u}
	}
	bin := findBin()
	if bin == "" {
		return &server{skip: "no PostgreSQL for this test: " + EnvURL + " is unset and no PostgreSQL binaries " +
			"(initdb, pg_ctl) were found on PATH or under /usr/lib/postgresql/*/bin; " +
			"install PostgreSQL (Debian: apt-get install postgresql) or set " + EnvURL}
	}
	s := &server{pgctl: filepath.Join(bin, "pg_ctl")}
	if err := s.initCluster(bin); err != nil {
		s.stop()
		return &server{err: fmt.Errorf("start a cluster with %s: %w", bin, err)}
	}
	return s
}

// findBin returns the directory holding initdb and pg_ctl: the one on
// PATH, or else the newest Debian install; "" when there is none.
func findBin() string {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if p, err := filepath.EvalSymlinks(p); err == nil {
			dir := filepath.Dir(p)
			if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
				return dir
			}
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	version := func(p string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(p))), 64)
		return v
	}
	slices.SortFunc(found, func(a, b string) int { return cmp.Compare(version(a), version(b)) })
	for _, p := range slices.Backward(found) {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir
		}
	}
	return ""
}

// initCluster makes and starts a cluster in a new temporary directory.
func (s *server) initCluster(bin string) error {
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return err
	}
	s.dir = dir
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		if err := s.runAsNobody(); err != nil {
			return err
		}
	}
	// The superuser is "lab"; trust is safe since only the owner of the
	// socket's directory can reach the socket.
	if out, err := s.command(filepath.Join(bin, "initdb"), "-D", data, "-U", "lab", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	// No TCP, the socket in the private directory, and no durability: the
	// cluster dies with the tests.
	conf := fmt.Sprintf("\nlisten_addresses = ''\nunix_socket_directories = '%s'\n"+
		"fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n", sock)
	if err := appendFile(filepath.Join(data, "postgresql.conf"), conf); err != nil {
		return err
	}
	// pg_ctl -l sends the server's output to the log, so it holds no pipe
	// of ours.
	logPath := filepath.Join(dir, "log")
	if out, err := s.command(s.pgctl, "-D", data, "-l", logPath, "-w", "-t", "120", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, log)
	}
	s.url = "postgres:///postgres?host=" + url.QueryEscape(sock) + "&user=lab&sslmode=disable"
	return nil
}

// runAsNobody hands the directory to the user nobody, who runs the cluster.
func (s *server) runAsNobody() error {
	u, err := user.Lookup("nobody")
	if err != nil {
		return fmt.Errorf("root cannot run postgres and there is no user nobody: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("user nobody: %w", err)
	}
	s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
	return filepath.WalkDir(s.dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(uid), int(gid))
	})
}

// command makes a command that runs as the cluster's user, in its
// directory (the test's working directory may be closed to that user).
func (s *server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "HOME="+s.dir)
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// stop stops a cluster of our own and removes its directory.
func (s *server) stop() error {
	if s.dir == "" {
		return nil
	}
	var errs []error
	data := filepath.Join(s.dir, "data")
	if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err == nil {
		if out, err := s.command(s.pgctl, "-D", data, "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("pg_ctl stop: %w\n%s", err, out))
		}
	}
	errs = append(errs, os.RemoveAll(s.dir))
	s.dir = ""
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop the cluster: %w", err)
	}
	return nil
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	return errors.Join(err, f.Close())
}
