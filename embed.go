// Package asynclab carries the lab's own engine source, so that a deployed
// binary builds student submissions offline against the exact engine it
// runs. The engine is what a submission may import; nothing else of the
// lab is embedded.
package asynclab

import "embed"

// Source holds go.mod, go.sum, the engine packages a handler builds
// against, and the exercise harnesses that run it in the sandbox. Test files come along because embed patterns cannot exclude
// them; the go tool ignores them in a vendored module.
//
//go:embed go.mod go.sum engine/*.go engine/backend/*.go engine/sys/*.go engine/trace/*.go engine/uring/*.go
//go:embed exercises/kit/*.go exercises/report/*.go exercises/*/child/*.go exercises/*/wire/*.go
var Source embed.FS
