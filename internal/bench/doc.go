// Package bench is the home of the measuring code that `lab bench` runs.
// It holds no code of its own; each benchmark is a package below it:
//
//   - enginebench: the engine against its baselines (`lab bench engine`,
//     and the bench/ module's full run): NOP sweeps on the ring, a
//     closed-loop TCP echo against our loops and Go's net, the cost of
//     tracing;
//   - livebench: how many websocket viewers of one live run a server
//     serves within 100 ms (`lab bench web`), through web/live's exported
//     API only.
//
// The tree is kept apart from the production packages so that none of
// them carries a load generator, a test server (net/http/httptest) or
// other measuring machinery, and it is internal so that nothing outside
// this module depends on it. Only cmd/lab imports it, and the separate
// bench/ module, whose path lies under this module's and so may.
//
// Benchmarks live in three places, each for a reason:
//   - `go test -bench` benchmarks sit in _test.go files beside the code
//     they measure, as in any Go package (engine/uring's ring, engine/trace's
//     recorder, grading/builder's builds, web's gradebook); those that
//     drive the code here are its packages' own tests;
//   - the code behind `lab bench` is here;
//   - baselines that need dependencies the lab does not (gnet, a C sweep
//     on liburing) are in the bench/ module, which runs this code and
//     adds them.
//
// `lab bench grading` stays in cmd/lab (bench_grading.go): it starts the
// lab binary itself as `lab serve` and `lab worker` processes and drives
// them with cmd/lab's browser client, which cmd/lab's end-to-end tests
// share, so it has no part that would stand alone here.
package bench
