package builder

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// binCache keeps the binaries of recent successful builds, named by what
// they were built from, so that a handler built again (each student's first
// Run of the starter, a Submit of the code just Run) compiles and links
// nothing: its binary is hard-linked into the new build's directory, which
// owns that link as it owns a binary it built. Evicting an entry removes
// only the cache's name for it. Builds of one key at the same time wait
// for the first, then find its binary.
type binCache struct {
	dir string
	max int

	mu       sync.Mutex
	lru      *list.List               // keys, most recently used first
	entries  map[string]*list.Element // key -> its element in lru
	building map[string]chan struct{} // keys being built now, closed when done
}

// binCacheEntries is how many binaries the cache keeps: about 3 MB each.
const binCacheEntries = 32

// newBinCache empties dir, which only this cache uses, and returns a
// cache of at most max binaries in it.
func newBinCache(dir string, max int) (*binCache, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("builder: empty the binary cache: %w", err)
	}
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	return &binCache{dir: dir, max: max, lru: list.New(), entries: map[string]*list.Element{}, building: map[string]chan struct{}{}}, nil
}

// binKey names what a build makes from: the template (which names the
// engine and harness sources), the harness's main package and the
// student's files, in order.
func binKey(template string, req Request) string {
	h := sha256.New()
	field := func(b []byte) {
		h.Write(binary.AppendUvarint(nil, uint64(len(b))))
		h.Write(b)
	}
	field([]byte(template))
	field(req.Harness)
	field([]byte(req.Policy.Package))
	for _, f := range req.Files {
		field([]byte(f.Name))
		field(f.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// claim waits until no other build of key is under way, and returns the
// function that says this one is over.
func (c *binCache) claim(ctx context.Context, key string) (done func(), err error) {
	for {
		c.mu.Lock()
		ch, busy := c.building[key]
		if !busy {
			ch = make(chan struct{})
			c.building[key] = ch
			c.mu.Unlock()
			return func() {
				c.mu.Lock()
				delete(c.building, key)
				c.mu.Unlock()
				close(ch)
			}, nil
		}
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("build: waiting for the same build: %w", ctx.Err())
		}
	}
}

// get links the binary of key to dst, if the cache has it.
func (c *binCache) get(key, dst string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return false
	}
	if err := os.Link(filepath.Join(c.dir, key), dst); err != nil {
		c.removeLocked(e) // gone from under us: build it again
		return false
	}
	c.lru.MoveToFront(e)
	return true
}

// put keeps bin, a build's binary, as key's, evicting the least recently
// used past the cache's size. A binary it cannot keep is simply not
// cached.
func (c *binCache) put(key, bin string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return
	}
	if err := os.Link(bin, filepath.Join(c.dir, key)); err != nil {
		return
	}
	c.entries[key] = c.lru.PushFront(key)
	for c.lru.Len() > c.max {
		c.removeLocked(c.lru.Back())
	}
}

func (c *binCache) removeLocked(e *list.Element) {
	key := e.Value.(string)
	os.Remove(filepath.Join(c.dir, key))
	c.lru.Remove(e)
	delete(c.entries, key)
}
