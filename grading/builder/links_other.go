//go:build !unix

package builder

import "io/fs"

// links returns 1: this platform's FileInfo does not count links.
func links(fs.FileInfo) uint64 { return 1 }
