// Package backend names the engine's loop backends. It is a leaf, so that
// the lab's server, store and pages can name a backend on any platform;
// only running a loop needs Linux.
package backend

// Kind names a loop backend.
type Kind string

// The backends.
const (
	Epoll Kind = "epoll"
	Uring Kind = "uring"
)

// Name is how the backend is shown to people: "epoll" or "io_uring". The
// Kind itself ("uring") is the key in URLs, flags and track names.
func (k Kind) Name() string {
	if k == Uring {
		return "io_uring"
	}
	return string(k)
}
